// StreamAddress: the inet: and unix: forms, and what is refused (names, port 0, relative paths).
#include "net/stream_address.h"

#include <gtest/gtest.h>

namespace tern::net {
namespace {

TEST(StreamAddress, ParsesInetAndUnix) {
    auto a = StreamAddress::parse("inet:127.0.0.1:11332");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 11332);
    EXPECT_EQ(a->str(), "inet:127.0.0.1:11332");
    auto six = StreamAddress::parse("inet:[::1]:25");
    ASSERT_TRUE(six);
    EXPECT_EQ(six->host, "::1");
    EXPECT_EQ(six->str(), "inet:[::1]:25");
    auto u = StreamAddress::parse("unix:/run/milter.sock");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->unix_socket);
    EXPECT_FALSE(StreamAddress::parse("unix:relative"));
    EXPECT_FALSE(StreamAddress::parse("inet:localhost:25"));
    EXPECT_FALSE(StreamAddress::parse("inet:127.0.0.1:0"));
    EXPECT_FALSE(StreamAddress::parse("inet:127.0.0.1:65536"));
    EXPECT_FALSE(StreamAddress::parse("tcp:127.0.0.1:25"));
}

}  // namespace
}  // namespace tern::net
