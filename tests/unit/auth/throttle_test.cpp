// Unit tests of the login throttle with a fake clock: doubling delays up to the maximum, reset
// after a quiet period, eviction of the stalest keys, and the client/account policy.
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

TEST(LoginThrottle, AccountAndClientCountSeparately) {
    LoginThrottle t(options());
    t.record_failure("192.0.2.1", "alice@example.org", t0);
    t.record_failure("192.0.2.2", "alice@example.org", t0);
    // A new client guessing at alice waits for alice's delay...
    EXPECT_EQ(t.wait("192.0.2.3", "alice@example.org", t0), milliseconds(2000));
    // ...and before the account is known, only for its own.
    EXPECT_EQ(t.wait("192.0.2.3", "", t0), milliseconds(0));
    EXPECT_EQ(t.wait("192.0.2.1", "", t0), milliseconds(1000));
    EXPECT_EQ(t.wait("192.0.2.1", "bob@example.org", t0), milliseconds(1000));
}

TEST(LoginThrottle, SuccessForgetsTheAccountNotTheClient) {
    LoginThrottle t(options());
    t.record_failure("192.0.2.1", "alice@example.org", t0);
    t.record_failure("192.0.2.1", "bob@example.org", t0);
    t.record_success("bob@example.org");
    EXPECT_EQ(t.accounts().size(), 1u);
    EXPECT_EQ(t.wait("192.0.2.1", "bob@example.org", t0), milliseconds(2000));
    EXPECT_EQ(t.wait("192.0.2.9", "bob@example.org", t0), milliseconds(0));
}

}  // namespace
}  // namespace tern::auth
