// Unit tests of rate limits: "N/period" as written, and the GCRA store (N at once, then one
// per period/N; a refused request takes nothing; keys apart; idle keys pruned).
#include "policy/rate.h"

#include <gtest/gtest.h>

namespace tern::policy {
namespace {

using namespace std::chrono_literals;
using Clock = MemoryRateStore::Clock;

TEST(Rate, Parses) {
    auto r = parse_rate("60/1m");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count, 60u);
    EXPECT_EQ(r->period, 60s);
    EXPECT_EQ(parse_rate("1000 / 1h")->period, 3600s);
    EXPECT_EQ(parse_rate("10/30s")->period, 30s);
    EXPECT_EQ(parse_rate("5/d")->period, 86400s);
    EXPECT_EQ(parse_rate("5/45")->period, 45s);
    EXPECT_TRUE(parse_rate("0")->off());
    EXPECT_TRUE(parse_rate("")->off());
    EXPECT_EQ(parse_rate("60/1m")->describe(), "60 per 1m");
    EXPECT_EQ(parse_rate("7/90s")->describe(), "7 per 90s");
}

TEST(Rate, MalformedSaysWhy) {
    for (const char* bad : {"60", "60/", "/1m", "x/1m", "60/1y", "60/0m", "-1/1m", "60/1m5"}) {
        std::string why;
        EXPECT_FALSE(parse_rate(bad, &why)) << bad;
        EXPECT_NE(why.find("60/1m"), std::string::npos) << bad;
    }
}

TEST(MemoryRateStore, BurstThenOnePerInterval) {
    MemoryRateStore store;
    Rate r{3, 60s};
    auto t = Clock::now();
    EXPECT_TRUE(store.take_now("k", r, t));
    EXPECT_TRUE(store.take_now("k", r, t));
    EXPECT_TRUE(store.take_now("k", r, t));
    EXPECT_FALSE(store.take_now("k", r, t));
    EXPECT_FALSE(store.take_now("k", r, t + 19s));
    EXPECT_TRUE(store.take_now("k", r, t + 20s));  // one interval later, one more
    EXPECT_FALSE(store.take_now("k", r, t + 20s));
    EXPECT_TRUE(store.take_now("k", r, t + 60s));  // two more intervals: two more
    EXPECT_TRUE(store.take_now("k", r, t + 60s));
    EXPECT_FALSE(store.take_now("k", r, t + 60s));
}

TEST(MemoryRateStore, RefusedRequestTakesNothing) {
    MemoryRateStore store;
    Rate r{2, 10s};
    auto t = Clock::now();
    EXPECT_TRUE(store.take_now("k", r, t, 2));
    for (int i = 0; i < 100; ++i)
        EXPECT_FALSE(store.take_now("k", r, t + 1s));
    EXPECT_TRUE(store.take_now("k", r, t + 5s));
}

TEST(MemoryRateStore, KeysAreApartAndOffIsFree) {
    MemoryRateStore store;
    Rate r{1, 60s};
    auto t = Clock::now();
    EXPECT_TRUE(store.take_now("a", r, t));
    EXPECT_TRUE(store.take_now("b", r, t));
    EXPECT_FALSE(store.take_now("a", r, t));
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(store.take_now("a", Rate{}, t));
}

TEST(MemoryRateStore, MoreThanTheBurstAtOnceIsRefused) {
    MemoryRateStore store;
    EXPECT_FALSE(store.take_now("k", Rate{5, 60s}, Clock::now(), 6));
    EXPECT_EQ(store.size(), 0u);
}

TEST(MemoryRateStore, IdleKeysArePruned) {
    MemoryRateStore store;
    Rate r{10, 1s};
    auto t = Clock::now();
    // A new client every second: each allowance is whole again a tenth of a second later, so
    // the map never holds more than the pruning threshold.
    for (int i = 0; i < 5000; ++i)
        store.take_now("k" + std::to_string(i), r, t + std::chrono::seconds(i));
    EXPECT_LE(store.size(), 1024u);
}

}  // namespace
}  // namespace tern::policy
