// Url::parse: the absolute URLs the HTTP client takes (the ACME directory and what it links to).
#include <gtest/gtest.h>

#include "http/client.h"

namespace tern::http {
namespace {

TEST(Url, ParsesSchemeHostPortAndTarget) {
    auto u = Url::parse("https://ACME.Example:14000/dir?x=1#frag");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->https);
    EXPECT_EQ(u->host, "acme.example");
    EXPECT_EQ(u->port, 14000);
    EXPECT_EQ(u->target, "/dir?x=1");
    EXPECT_EQ(u->authority(), "acme.example:14000");
    EXPECT_EQ(u->str(), "https://acme.example:14000/dir?x=1");
}

TEST(Url, DefaultsPortAndPath) {
    auto h = Url::parse("http://example.org");
    ASSERT_TRUE(h);
    EXPECT_FALSE(h->https);
    EXPECT_EQ(h->port, 80);
    EXPECT_EQ(h->target, "/");
    EXPECT_EQ(h->authority(), "example.org");
    auto q = Url::parse("https://example.org?a");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->target, "/?a");
}

TEST(Url, TakesAddressLiterals) {
    auto v6 = Url::parse("https://[::1]:8443/x");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 8443);
    EXPECT_EQ(v6->authority(), "[::1]:8443");
    auto v4 = Url::parse("https://127.0.0.1:14000/dir");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "127.0.0.1");
}

TEST(Url, RefusesWhatIsNoPlainHttpUrl) {
    for (const char* bad :
         {"", "example.org", "ftp://example.org/", "https://", "https:///x", "https://user@host/",
          "https://host:/", "https://host:0/", "https://host:65536/", "https://host:12a/",
          "https://[::1/", "https://[nonsense]/", "https://ho st/", "https://host/a b",
          "https://[::1]x/", "https://host/\x7f"})
        EXPECT_FALSE(Url::parse(bad)) << bad;
}

}  // namespace
}  // namespace tern::http
