// Unit tests of LmtpTarget: the LMTP server forms [local] lmtp accepts, and the ones it refuses.
#include "net/lmtp_target.h"

#include <gtest/gtest.h>

namespace tern::net {
namespace {

TEST(LmtpTarget, UnixSocketWithOrWithoutPrefix) {
    auto a = LmtpTarget::parse("unix:/run/dovecot/lmtp");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->socket_path, "/run/dovecot/lmtp");
    EXPECT_EQ(a->str(), "unix:/run/dovecot/lmtp");
    auto b = LmtpTarget::parse("/var/spool/postfix/private/dovecot-lmtp");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->socket_path, "/var/spool/postfix/private/dovecot-lmtp");
}

TEST(LmtpTarget, HostsAndPorts) {
    auto a = LmtpTarget::parse("[127.0.0.1]:2424");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 2424);
    EXPECT_EQ(a->str(), "[127.0.0.1]:2424");
    auto b = LmtpTarget::parse("[::1]:24");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->host, "::1");
    auto c = LmtpTarget::parse("Mail.Example:25");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "mail.example");
    EXPECT_EQ(c->port, 25);
    auto d = LmtpTarget::parse("localhost");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->port, 24);
    EXPECT_EQ(d->str(), "localhost:24");  // brackets only around address literals
    EXPECT_EQ(c->str(), "mail.example:25");
    EXPECT_EQ(LmtpTarget::parse("[::1]")->port, 24);
    // A host named "unix" (found by the fuzzer): its canonical form parses back to it.
    auto e = LmtpTarget::parse("unix");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->str(), "unix:24");
    auto again = LmtpTarget::parse(e->str());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->host, "unix");
    EXPECT_EQ(again->port, 24);
}

TEST(LmtpTarget, RefusesASocketPathTooLongForSunPath) {
    std::string longest = "/" + std::string(LmtpTarget::kMaxSocketPath - 2, 'x');
    EXPECT_TRUE(LmtpTarget::parse(longest));
    EXPECT_FALSE(LmtpTarget::parse(longest + "x"));
    EXPECT_FALSE(LmtpTarget::parse("unix:" + longest + "x"));
}

TEST(LmtpTarget, RefusesWhatIsNoServer) {
    for (const char* bad : {"", "unix:", "/", "[127.0.0.1", "[::1]24", "host:", "host:0",
                            "host:65536", "host:2x", "::1:24", "a b:24", "[]:24", "unix:relative"})
        EXPECT_FALSE(LmtpTarget::parse(bad)) << bad;
}

}  // namespace
}  // namespace tern::net
