// The dashboard's logins and its CSRF checks: SessionStore, cookie_value, same_origin.
#include "admin/dashboard_sessions.h"

#include <gtest/gtest.h>

namespace tern::admin {
namespace {

using namespace std::chrono_literals;
using Clock = SessionStore::Clock;

TEST(SessionStore, OpensAndFindsASessionWithItsOwnCsrfToken) {
    SessionStore store(1h, 10);
    auto now = Clock::now();
    auto a = store.open("admin@example.org", now);
    auto b = store.open("admin@example.org", now);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->first.size(), 64u);  // 32 random octets in hex
    EXPECT_EQ(a->second.csrf.size(), 64u);
    EXPECT_NE(a->first, b->first);
    EXPECT_NE(a->second.csrf, b->second.csrf);
    EXPECT_NE(a->first, a->second.csrf);
    auto found = store.find(a->first, now + 1min);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->user, "admin@example.org");
    EXPECT_EQ(found->csrf, a->second.csrf);
    EXPECT_FALSE(store.find("", now));
    EXPECT_FALSE(store.find(a->second.csrf, now));  // the CSRF token is no session token
}

TEST(SessionStore, ASessionUnusedForItsLifetimeEndsAndUseRenewsIt) {
    SessionStore store(10min, 10);
    auto now = Clock::now();
    auto a = store.open("a@example.org", now);
    ASSERT_TRUE(a);
    EXPECT_TRUE(store.find(a->first, now + 9min));
    EXPECT_TRUE(store.find(a->first, now + 18min));  // renewed at 9 min
    EXPECT_FALSE(store.find(a->first, now + 29min));
    EXPECT_EQ(store.size(), 0u);  // forgotten
}

TEST(SessionStore, PastTheLimitTheLeastRecentlyUsedEnds) {
    SessionStore store(1h, 2);
    auto now = Clock::now();
    auto a = store.open("a@example.org", now);
    auto b = store.open("b@example.org", now + 1s);
    ASSERT_TRUE(store.find(a->first, now + 2s));  // a is now more recent than b
    auto c = store.open("c@example.org", now + 3s);
    EXPECT_EQ(store.size(), 2u);
    EXPECT_TRUE(store.find(a->first, now + 4s));
    EXPECT_FALSE(store.find(b->first, now + 4s));
    EXPECT_TRUE(store.find(c->first, now + 4s));
}

TEST(SessionStore, CloseEndsOnlyThatSession) {
    SessionStore store(1h, 10);
    auto now = Clock::now();
    auto a = store.open("a@example.org", now);
    auto b = store.open("a@example.org", now);
    store.close(a->first);
    store.close("no such token");
    EXPECT_FALSE(store.find(a->first, now));
    EXPECT_TRUE(store.find(b->first, now));
}

TEST(CookieValue, FindsTheNamedCookieAmongOthers) {
    EXPECT_EQ(cookie_value("tern_dashboard=abc", "tern_dashboard"), "abc");
    EXPECT_EQ(cookie_value("a=1; tern_dashboard=abc; b=2", "tern_dashboard"), "abc");
    EXPECT_EQ(cookie_value("a=1;tern_dashboard=abc", "tern_dashboard"), "abc");
    EXPECT_EQ(cookie_value("tern_dashboard=\"abc\"", "tern_dashboard"), "abc");
    EXPECT_EQ(cookie_value("tern_dashboard=", "tern_dashboard"), "");
    EXPECT_FALSE(cookie_value("", "tern_dashboard"));
    EXPECT_FALSE(cookie_value("xtern_dashboard=abc", "tern_dashboard"));
    EXPECT_FALSE(cookie_value("tern_dashboardx=abc; junk; =; ;", "tern_dashboard"));
    EXPECT_EQ(cookie_value("junk; =x; tern_dashboard=1", "tern_dashboard"), "1");
}

TEST(SameOrigin, OnlyTheSameHostAndPortOverTheListenersScheme) {
    EXPECT_TRUE(same_origin("http://127.0.0.1:8025", "127.0.0.1:8025", false));
    EXPECT_TRUE(same_origin("HTTPS://Mail.Example.org", "mail.example.org", true));
    EXPECT_FALSE(same_origin("https://127.0.0.1:8025", "127.0.0.1:8025", false));  // scheme
    EXPECT_FALSE(same_origin("http://mail.example.org", "mail.example.org", true));
    EXPECT_TRUE(same_origin("http://[::1]:8025", "[::1]:8025", false));
    EXPECT_FALSE(same_origin("http://127.0.0.1:8026", "127.0.0.1:8025", false));
    EXPECT_FALSE(same_origin("http://evil.example", "127.0.0.1:8025", false));
    EXPECT_FALSE(same_origin("null", "127.0.0.1:8025", false));
    EXPECT_FALSE(same_origin("ftp://127.0.0.1:8025", "127.0.0.1:8025", false));
    EXPECT_FALSE(same_origin("http://127.0.0.1:8025/x", "127.0.0.1:8025", false));
    EXPECT_FALSE(same_origin("http://", "", false));
    EXPECT_FALSE(same_origin("http://127.0.0.1:8025", "", false));
}

}  // namespace
}  // namespace tern::admin
