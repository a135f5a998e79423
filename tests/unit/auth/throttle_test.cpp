// Unit tests of the login throttle with a fake clock: doubling delays up to the maximum after
// the free failures, reset after a quiet period, eviction of the stalest keys, repeats that are
// not counted, and the (address, account) / address / account policy.
#include "auth/throttle.h"

#include <gtest/gtest.h>

namespace tern::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = Throttle::Clock;

const Clock::time_point t0{seconds(1000)};

ThrottleOptions options(std::size_t max_entries = 100) {
    return ThrottleOptions{milliseconds(1000), milliseconds(8000), seconds(600), max_entries};
}

TEST(Throttle, NoFailuresNoWait) {
    Throttle t(options());
    EXPECT_EQ(t.wait("192.0.2.1", t0), milliseconds(0));
    EXPECT_EQ(t.size(), 0u);
}

TEST(Throttle, DelayDoublesUpToTheMaximum) {
    Throttle t(options());
    Clock::time_point now = t0;
    for (auto expected : {1000, 2000, 4000, 8000, 8000, 8000}) {
        t.record_failure("192.0.2.1", now);
        EXPECT_EQ(t.wait("192.0.2.1", now), milliseconds(expected));
        EXPECT_EQ(t.wait("192.0.2.1", now + milliseconds(expected / 2)),
                  milliseconds(expected / 2));
        EXPECT_EQ(t.wait("192.0.2.1", now + milliseconds(expected)), milliseconds(0));
        now += milliseconds(expected);
    }
    EXPECT_EQ(t.wait("192.0.2.2", now), milliseconds(0));  // other keys are not affected
}

TEST(Throttle, ManyFailuresDoNotOverflow) {
    Throttle t(ThrottleOptions{milliseconds(1000), milliseconds(3600000), seconds(86400), 10});
    for (int i = 0; i < 200; ++i)
        t.record_failure("k", t0);
    EXPECT_EQ(t.wait("k", t0), milliseconds(3600000));
}

TEST(Throttle, QuietPeriodResets) {
    Throttle t(options());
    for (int i = 0; i < 4; ++i)
        t.record_failure("k", t0);
    EXPECT_EQ(t.wait("k", t0), milliseconds(8000));
    auto later = t0 + seconds(600);
    EXPECT_EQ(t.wait("k", later), milliseconds(0));
    t.record_failure("k", later);  // counts from one again
    EXPECT_EQ(t.wait("k", later), milliseconds(1000));
}

TEST(Throttle, SuccessForgets) {
    Throttle t(options());
    t.record_failure("k", t0);
    t.record_failure("k", t0);
    t.record_success("k");
    EXPECT_EQ(t.wait("k", t0), milliseconds(0));
    EXPECT_EQ(t.size(), 0u);
    t.record_success("never-seen");
}

TEST(Throttle, EvictsTheStalestKeyAtTheCap) {
    Throttle t(options(3));
    t.record_failure("a", t0);
    t.record_failure("b", t0);
    t.record_failure("c", t0);
    t.record_failure("a", t0);  // "a" is now the freshest, "b" the stalest
    t.record_failure("d", t0);  // evicts "b"
    EXPECT_EQ(t.size(), 3u);
    EXPECT_EQ(t.wait("b", t0), milliseconds(0));
    EXPECT_EQ(t.wait("a", t0), milliseconds(2000));
    EXPECT_EQ(t.wait("c", t0), milliseconds(1000));
    EXPECT_EQ(t.wait("d", t0), milliseconds(1000));
    t.record_failure("e", t0);  // evicts "c"
    EXPECT_EQ(t.size(), 3u);
    EXPECT_EQ(t.wait("c", t0), milliseconds(0));
    EXPECT_EQ(t.wait("a", t0), milliseconds(2000));
}

TEST(Throttle, LongKeysAreCut) {
    Throttle t(options());
    std::string a(Throttle::kMaxKeyLength, 'x');
    t.record_failure(a + "one", t0);
    t.record_failure(a + "two", t0);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.wait(a, t0), milliseconds(2000));
}

TEST(Throttle, FreeFailuresCostNothingThenTheDoublingStarts) {
    auto o = options();
    o.free_failures = 3;
    Throttle t(o);
    for (auto expected : {0, 0, 0, 1000, 2000, 4000, 8000, 8000}) {
        t.record_failure("k", t0);
        EXPECT_EQ(t.wait("k", t0), milliseconds(expected));
    }
}

TEST(Throttle, FreeFailuresComeBackAfterTheQuietPeriod) {
    auto o = options();
    o.free_failures = 1;
    Throttle t(o);
    t.record_failure("k", t0);
    t.record_failure("k", t0);
    EXPECT_EQ(t.wait("k", t0), milliseconds(1000));
    auto later = t0 + seconds(600);
    t.record_failure("k", later);
    EXPECT_EQ(t.wait("k", later), milliseconds(0));
}

TEST(Throttle, ManyFreeFailuresStillEndInTheMaximum) {
    auto o = options();
    o.free_failures = 100;
    Throttle t(o);
    for (int i = 0; i < 200; ++i)
        t.record_failure("k", t0);
    EXPECT_EQ(t.wait("k", t0), milliseconds(8000));
}

TEST(Throttle, OneRepeatOfTheLastTagIsNotCounted) {
    Throttle t(options());
    EXPECT_TRUE(t.record_failure("k", t0, 7));
    EXPECT_FALSE(t.record_failure("k", t0 + seconds(1), 7));  // the same password again
    EXPECT_EQ(t.wait("k", t0), milliseconds(1000));
    EXPECT_TRUE(t.record_failure("k", t0, 7));  // and again: now it counts
    EXPECT_EQ(t.wait("k", t0), milliseconds(2000));
    EXPECT_FALSE(t.record_failure("k", t0, 7));  // one free repeat per counted failure
    EXPECT_TRUE(t.record_failure("k", t0, 8));   // a new one
    EXPECT_TRUE(t.record_failure("k", t0, 7));   // only the last one is remembered
    EXPECT_EQ(t.wait("k", t0), milliseconds(8000));
    EXPECT_TRUE(t.record_failure("k", t0));  // no tag (SCRAM): always counted
    EXPECT_TRUE(t.record_failure("k", t0));
    // After the quiet period the same tag starts a new count.
    auto later = t0 + seconds(600);
    EXPECT_TRUE(t.record_failure("k", later, 5));
    EXPECT_TRUE(t.record_failure("k", later + seconds(600), 5));
    EXPECT_EQ(t.wait("k", later + seconds(600)), milliseconds(1000));
}

LoginThrottleOptions login_options(std::uint32_t per_login, std::uint32_t per_address,
                                   std::uint32_t per_account) {
    return LoginThrottleOptions{milliseconds(1000), milliseconds(8000), seconds(600), 100,
                                per_login,          per_address,        per_account,  "test key"};
}

TEST(LoginThrottle, AccountAndClientCountSeparately) {
    LoginThrottle t(login_options(0, 0, 0));
    t.record_failure("192.0.2.1", "alice@example.org", std::nullopt, t0);
    t.record_failure("192.0.2.2", "alice@example.org", std::nullopt, t0);
    // A new client guessing at alice waits for alice's delay...
    EXPECT_EQ(t.wait("192.0.2.3", "alice@example.org", t0), milliseconds(2000));
    // ...and before the account is known, only for its own.
    EXPECT_EQ(t.wait("192.0.2.3", "", t0), milliseconds(0));
    EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(1000));
    EXPECT_EQ(t.wait("192.0.2.1", "bob@example.org", t0), milliseconds(1000));
}

TEST(LoginThrottle, AnHonestTypoIsFree) {
    LoginThrottle t(login_options(3, 10, 10));
    for (int i = 0; i < 3; ++i) {
        t.record_failure("192.0.2.1", "alice@example.org", t.tag("typo" + std::to_string(i)), t0);
        EXPECT_EQ(t.wait("192.0.2.1", "alice@example.org", t0), milliseconds(0)) << i;
        EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(0)) << i;
    }
    // The fourth wrong password for the same account from the same address is a guess.
    t.record_failure("192.0.2.1", "alice@example.org", t.tag("typo3"), t0);
    EXPECT_EQ(t.wait("192.0.2.1", "alice@example.org", t0), milliseconds(1000));
    // The address as a whole, and the account, are still within their allowances.
    EXPECT_EQ(t.wait("192.0.2.1", "bob@example.org", t0), milliseconds(0));
    EXPECT_EQ(t.wait("192.0.2.2", "alice@example.org", t0), milliseconds(0));
}

TEST(LoginThrottle, TheNextMechanismWithTheSamePasswordIsNotANewGuess) {
    // Python's smtplib tries PLAIN, then LOGIN with the same password after a 535.
    LoginThrottle t(login_options(0, 0, 0));
    EXPECT_TRUE(t.record_failure("192.0.2.1", "alice@example.org", t.tag("wrong"), t0));
    EXPECT_FALSE(t.record_failure("192.0.2.1", "alice@example.org", t.tag("wrong"), t0));
    EXPECT_EQ(t.wait("192.0.2.1", "alice@example.org", t0), milliseconds(1000));
    EXPECT_EQ(t.clients().size(), 1u);
    EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(1000));  // one failure, not two
    // The same password for another account, or from another address, is a guess.
    EXPECT_TRUE(t.record_failure("192.0.2.1", "bob@example.org", t.tag("wrong"), t0));
    EXPECT_TRUE(t.record_failure("192.0.2.2", "alice@example.org", t.tag("wrong"), t0));
    EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(2000));
    EXPECT_EQ(t.wait("192.0.2.3", "alice@example.org", t0), milliseconds(2000));
}

TEST(LoginThrottle, TagsDependOnThePasswordAndTheKey) {
    LoginThrottle a(login_options(0, 0, 0));
    LoginThrottle b(LoginThrottleOptions{.tag_key = "another key"});
    EXPECT_EQ(a.tag("wrong"), a.tag("wrong"));
    EXPECT_NE(a.tag("wrong"), a.tag("Wrong"));
    EXPECT_NE(a.tag("wrong"), b.tag("wrong"));
}

TEST(LoginThrottle, SprayingManyAccountsFromOneAddressSlowsDown) {
    // Each account's own allowance is untouched, but the address's is used up.
    LoginThrottle t(login_options(3, 10, 10));
    for (int i = 0; i < 10; ++i) {
        std::string account = "user" + std::to_string(i) + "@example.org";
        t.record_failure("192.0.2.1", account, t.tag("Summer2024!"), t0);
        EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(0)) << i;
    }
    t.record_failure("192.0.2.1", "user10@example.org", t.tag("Summer2024!"), t0);
    EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(1000));
    EXPECT_EQ(t.wait("192.0.2.1", "user99@example.org", t0), milliseconds(1000));
    EXPECT_EQ(t.wait("192.0.2.2", "user99@example.org", t0), milliseconds(0));
}

TEST(LoginThrottle, ManyAddressesAtOneAccountSlowDown) {
    LoginThrottle t(login_options(3, 10, 10));
    for (int i = 0; i < 11; ++i)
        t.record_failure("192.0.2." + std::to_string(i), "alice@example.org", std::nullopt, t0);
    EXPECT_EQ(t.wait("198.51.100.1", "alice@example.org", t0), milliseconds(1000));
    EXPECT_EQ(t.wait("198.51.100.1", "", t0), milliseconds(0));
}

TEST(LoginThrottle, SuccessForgetsTheAccountAndPairNotTheClient) {
    LoginThrottle t(login_options(0, 0, 0));
    t.record_failure("192.0.2.1", "alice@example.org", std::nullopt, t0);
    t.record_failure("192.0.2.1", "bob@example.org", std::nullopt, t0);
    t.record_success("192.0.2.1", "bob@example.org");
    EXPECT_EQ(t.accounts().size(), 1u);
    EXPECT_EQ(t.logins().size(), 1u);
    EXPECT_EQ(t.wait("192.0.2.1", "bob@example.org", t0), milliseconds(2000));
    EXPECT_EQ(t.wait("192.0.2.9", "bob@example.org", t0), milliseconds(0));
}

}  // namespace
}  // namespace tern::auth
