// Unit tests of Greylist: a new triplet deferred for the delay, a retry after it passing, a
// retry too late starting anew, known triplets passing, client networks, and the
// auto-allow-list of a network whose triplets pass.
#include "policy/greylist.h"

#include <gtest/gtest.h>

namespace tern::policy {
namespace {

using namespace std::chrono_literals;
using Clock = Greylist::Clock;

GreylistOptions options(std::uint64_t auto_allowlist = 0) {
    GreylistOptions o;
    o.delay = 300s;
    o.retry_window = 3600s;
    o.max_age = 86400s;
    o.auto_allowlist = auto_allowlist;
    return o;
}

TEST(ClientNetwork, SlashTwentyFourAndSixtyFour) {
    EXPECT_EQ(client_network("192.0.2.77"), "192.0.2.0/24");
    EXPECT_EQ(client_network("::ffff:192.0.2.77"), "192.0.2.0/24");
    EXPECT_EQ(client_network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
}

TEST(Greylist, NewTripletWaitsForTheDelay) {
    Greylist g(options());
    auto t = Clock::now();
    auto d = g.check("192.0.2.1", "a@a.example", "b@b.example", t);
    EXPECT_FALSE(d.pass);
    EXPECT_EQ(d.wait, 300s);
    EXPECT_STREQ(d.why, "new");
    d = g.check("192.0.2.1", "a@a.example", "b@b.example", t + 100s);
    EXPECT_FALSE(d.pass);
    EXPECT_EQ(d.wait, 200s);
    EXPECT_STREQ(d.why, "early");
    // A retry from another server of the same /24 is the same client.
    d = g.check("192.0.2.200", "A@A.example", "b@b.example", t + 301s);
    EXPECT_TRUE(d.pass);
    EXPECT_STREQ(d.why, "passed");
    d = g.check("192.0.2.1", "a@a.example", "b@b.example", t + 5000s);
    EXPECT_TRUE(d.pass);
    EXPECT_STREQ(d.why, "known");
}

TEST(Greylist, TripletsAreApart) {
    Greylist g(options());
    auto t = Clock::now();
    g.check("192.0.2.1", "a@a.example", "b@b.example", t);
    EXPECT_TRUE(g.check("192.0.2.1", "a@a.example", "b@b.example", t + 400s).pass);
    EXPECT_FALSE(g.check("192.0.2.1", "a@a.example", "c@b.example", t + 400s).pass);
    EXPECT_FALSE(g.check("198.51.100.1", "a@a.example", "b@b.example", t + 400s).pass);
    EXPECT_FALSE(g.check("192.0.2.1", "", "b@b.example", t + 400s).pass);  // null sender
}

TEST(Greylist, RetryTooLateStartsAnew) {
    Greylist g(options());
    auto t = Clock::now();
    g.check("192.0.2.1", "a@a.example", "b@b.example", t);
    auto d = g.check("192.0.2.1", "a@a.example", "b@b.example", t + 4000s);
    EXPECT_FALSE(d.pass);
    EXPECT_STREQ(d.why, "new");
    EXPECT_TRUE(g.check("192.0.2.1", "a@a.example", "b@b.example", t + 4400s).pass);
}

TEST(Greylist, PassedTripletIsForgottenAfterMaxAge) {
    Greylist g(options());
    auto t = Clock::now();
    g.check("192.0.2.1", "a@a.example", "b@b.example", t);
    EXPECT_TRUE(g.check("192.0.2.1", "a@a.example", "b@b.example", t + 400s).pass);
    EXPECT_FALSE(g.check("192.0.2.1", "a@a.example", "b@b.example", t + 400s + 86401s).pass);
}

TEST(Greylist, NetworkAllowListedAfterPasses) {
    Greylist g(options(2));
    auto t = Clock::now();
    for (const char* rcpt : {"r1@b.example", "r2@b.example"}) {
        g.check("192.0.2.1", "a@a.example", rcpt, t);
        EXPECT_TRUE(g.check("192.0.2.1", "a@a.example", rcpt, t + 400s).pass);
    }
    auto d = g.check("192.0.2.9", "new@c.example", "r3@b.example", t + 500s);
    EXPECT_TRUE(d.pass);
    EXPECT_STREQ(d.why, "allowlisted");
    EXPECT_FALSE(g.check("192.0.3.1", "new@c.example", "r3@b.example", t + 500s).pass);
}

}  // namespace
}  // namespace tern::policy
