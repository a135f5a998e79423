// AnswerCache: answers come back while fresh (any case, a trailing dot), go at their TTL or the
// cap, temporary failures and TTL 0 are never kept, and a full cache makes room by expiry.
#include "dns/answer_cache.h"

#include <gtest/gtest.h>

namespace tern::dns {
namespace {

using namespace std::chrono_literals;
using Clock = AnswerCache::Clock;

Answer txt(std::string value) {
    Answer a;
    a.status = Answer::Status::kOk;
    a.rdata = {std::move(value)};
    return a;
}

TEST(AnswerCache, KeepsAnAnswerForItsTtl) {
    AnswerCache cache(100, 3600s);
    auto t0 = Clock::now();
    cache.store("Example.COM.", RecordType::kTxt, txt("v=spf1 -all"), 60s, t0);
    auto hit = cache.find("example.com", RecordType::kTxt, t0 + 59s);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->rdata, std::vector<std::string>{"v=spf1 -all"});
    EXPECT_FALSE(cache.find("example.com", RecordType::kMx, t0));         // another type
    EXPECT_FALSE(cache.find("example.com", RecordType::kTxt, t0 + 60s));  // expired
    EXPECT_EQ(cache.size(), 0u);                                          // and dropped
}

TEST(AnswerCache, NegativeAnswersAreKeptFailuresAndTtlZeroAreNot) {
    AnswerCache cache(100, 3600s);
    auto t0 = Clock::now();
    Answer nx;
    nx.status = Answer::Status::kNxDomain;
    cache.store("_dmarc.example.net", RecordType::kTxt, nx, 30s, t0);
    auto hit = cache.find("_dmarc.example.net", RecordType::kTxt, t0 + 1s);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->status, Answer::Status::kNxDomain);

    Answer fail;
    fail.why = "DNS query timed out";
    cache.store("slow.example.net", RecordType::kTxt, fail, 30s, t0);
    EXPECT_FALSE(cache.find("slow.example.net", RecordType::kTxt, t0));
    cache.store("zero.example.net", RecordType::kTxt, txt("x"), 0s, t0);
    EXPECT_FALSE(cache.find("zero.example.net", RecordType::kTxt, t0));
}

TEST(AnswerCache, TtlIsCappedAndANewerAnswerReplacesTheOld) {
    AnswerCache cache(100, 10s);
    auto t0 = Clock::now();
    cache.store("a.example", RecordType::kTxt, txt("old"), 86400s, t0);
    EXPECT_FALSE(cache.find("a.example", RecordType::kTxt, t0 + 11s));
    cache.store("a.example", RecordType::kTxt, txt("old"), 5s, t0);
    cache.store("a.example", RecordType::kTxt, txt("new"), 5s, t0);
    EXPECT_EQ(cache.find("a.example", RecordType::kTxt, t0)->rdata[0], "new");
    EXPECT_EQ(cache.size(), 1u);
}

TEST(AnswerCache, AFullCacheDropsTheExpiredThenThoseClosestToExpiry) {
    AnswerCache cache(8, 3600s);
    auto t0 = Clock::now();
    for (int i = 0; i < 8; ++i)
        cache.store("n" + std::to_string(i) + ".example", RecordType::kTxt, txt("x"),
                    std::chrono::seconds(10 + i), t0);
    EXPECT_EQ(cache.size(), 8u);
    // Full, nothing expired: the one expiring first (n0) makes room.
    cache.store("late.example", RecordType::kTxt, txt("x"), 100s, t0);
    EXPECT_EQ(cache.size(), 8u);
    EXPECT_FALSE(cache.find("n0.example", RecordType::kTxt, t0));
    EXPECT_TRUE(cache.find("n7.example", RecordType::kTxt, t0));
    EXPECT_TRUE(cache.find("late.example", RecordType::kTxt, t0));
    // Later, the expired ones go first.
    cache.store("later.example", RecordType::kTxt, txt("x"), 100s, t0 + 16s);
    EXPECT_EQ(cache.size(), 3u);  // n7, late, later (n1 to n6 expired by 16 s)
}

TEST(AnswerCache, SizeZeroKeepsNothing) {
    AnswerCache cache(0, 3600s);
    auto t0 = Clock::now();
    cache.store("a.example", RecordType::kTxt, txt("x"), 60s, t0);
    EXPECT_FALSE(cache.find("a.example", RecordType::kTxt, t0));
}

}  // namespace
}  // namespace tern::dns
