// Unit tests of order_mx() (RFC 5321 section 5.1, RFC 7505): MX records sorted by preference,
// equal preferences shuffled with every order possible, and null MX handling.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "dns/mx_resolver.h"

namespace tern::dns {
namespace {

std::vector<MxRecord> records(std::initializer_list<std::pair<int, const char*>> list) {
    std::vector<MxRecord> out;
    for (auto [pref, name] : list)
        out.push_back(MxRecord{static_cast<std::uint16_t>(pref), name});
    return out;
}

std::vector<std::string> names(const std::vector<MxRecord>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs)
        out.push_back(r.exchange);
    return out;
}

std::vector<MxRecord> order(std::vector<MxRecord> rs, unsigned seed = 1) {
    std::mt19937 rng(seed);
    return order_mx(std::move(rs), rng);
}

bool by_preference(const std::vector<MxRecord>& rs) {
    return std::is_sorted(rs.begin(), rs.end(), [](const MxRecord& a, const MxRecord& b) {
        return a.preference < b.preference;
    });
}

TEST(OrderMx, DistinctPreferencesComeInAscendingOrder) {
    auto input =
        records({{30, "c.example"}, {10, "a.example"}, {20, "b.example"}, {0, "z.example"}});
    for (unsigned seed = 0; seed < 50; ++seed)
        EXPECT_EQ(names(order(input, seed)),
                  (std::vector<std::string>{"z.example", "a.example", "b.example", "c.example"}))
            << "seed " << seed;
}

TEST(OrderMx, PreferenceIsComparedAsANumberUpTo65535) {
    auto out =
        order(records({{65535, "last.example"}, {256, "mid.example"}, {1, "first.example"}}));
    EXPECT_EQ(names(out),
              (std::vector<std::string>{"first.example", "mid.example", "last.example"}));
}

TEST(OrderMx, SingleRecordIsReturnedAsIs) {
    auto out = order(records({{10, "mx.example"}}));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].preference, 10);
    EXPECT_EQ(out[0].exchange, "mx.example");
}

TEST(OrderMx, NoRecordsGiveNoRecords) {
    EXPECT_TRUE(order({}).empty());
}

TEST(OrderMx, EveryOrderOfEqualPreferencesAppearsAndPreferenceOrderAlwaysHolds) {
    auto input =
        records({{20, "c1"}, {10, "b1"}, {5, "a"}, {10, "b2"}, {20, "c2"}, {10, "b3"}, {30, "d"}});
    std::set<std::vector<std::string>> b_orders, c_orders;
    std::map<std::string, int> b_first;
    const int kSeeds = 600;
    for (int seed = 0; seed < kSeeds; ++seed) {
        auto out = order(input, static_cast<unsigned>(seed));
        ASSERT_EQ(out.size(), input.size());
        ASSERT_TRUE(by_preference(out)) << "seed " << seed;
        auto n = names(out);
        ASSERT_EQ(n.front(), "a");
        ASSERT_EQ(n.back(), "d");
        b_orders.insert({n[1], n[2], n[3]});
        c_orders.insert({n[4], n[5]});
        ++b_first[n[1]];
        auto sorted = n;
        std::sort(sorted.begin(), sorted.end());
        ASSERT_EQ(sorted, (std::vector<std::string>{"a", "b1", "b2", "b3", "c1", "c2", "d"}));
    }
    EXPECT_EQ(b_orders.size(), 6u);  // 3! orders of the preference-10 hosts
    EXPECT_EQ(c_orders.size(), 2u);
    // Load is spread: each equal host comes first in a fair share of the runs.
    for (const char* b : {"b1", "b2", "b3"})
        EXPECT_GT(b_first[b], kSeeds / 6) << b;
}

TEST(OrderMx, SameSeedGivesTheSameOrder) {
    auto input = records({{10, "a"}, {10, "b"}, {10, "c"}, {10, "d"}});
    EXPECT_EQ(names(order(input, 42)), names(order(input, 42)));
}

TEST(OrderMx, LoneNullMxGivesNoHosts) {
    EXPECT_TRUE(order(records({{0, ""}})).empty());
    EXPECT_TRUE(order(records({{10, ""}})).empty());
}

TEST(OrderMx, SeveralNullMxRecordsAloneGiveNoHosts) {
    EXPECT_TRUE(order(records({{0, ""}, {10, ""}})).empty());
}

TEST(OrderMx, NullMxMixedWithRealHostsIsDropped) {
    for (unsigned seed = 0; seed < 20; ++seed) {
        auto out = order(records({{0, ""}, {20, "b.example"}, {10, "a.example"}}), seed);
        EXPECT_EQ(names(out), (std::vector<std::string>{"a.example", "b.example"}));
    }
}

}  // namespace
}  // namespace tern::dns
