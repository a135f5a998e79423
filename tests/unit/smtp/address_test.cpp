// Unit tests of the envelope address grammar (RFC 5321 4.1.2, RFC 6531).
// Each case is an address a client could send and what the parser must make of it.
#include "smtp/address.h"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

std::expected<ForwardPath, PathError> forward(std::string_view text, bool utf8 = false) {
    return parse_forward_path(text, utf8);
}

TEST(Address, SimpleMailbox) {
    auto p = forward("<alice@example.com>");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->mailbox.local, "alice");
    EXPECT_EQ(p->mailbox.domain, "example.com");
}

TEST(Address, NullSenderOnlyAsReversePath) {
    std::string_view t = "<>";
    auto r = parse_reverse_path(t, false);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->null());
    EXPECT_FALSE(forward("<>"));
}

TEST(Address, SourceRouteIsDropped) {
    auto p = forward("<@relay.one,@relay.two:bob@example.org>");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->mailbox.str(), "bob@example.org");
}

TEST(Address, BarePostmaster) {
    auto p = forward("<PostMaster>");
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->bare_postmaster);
    EXPECT_FALSE(forward("<someone>"));
}

TEST(Address, QuotedLocalPart) {
    auto p = forward("<\"john doe\"@example.com>");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->mailbox.unquoted_local(), "john doe");
    auto q = forward("<\"a\\\"b>c\"@example.com>");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->mailbox.unquoted_local(), "a\"b>c");
}

TEST(Address, AddressLiterals) {
    EXPECT_TRUE(forward("<u@[192.0.2.1]>"));
    EXPECT_TRUE(forward("<u@[IPv6:2001:db8::1]>"));
    EXPECT_FALSE(forward("<u@[300.0.0.1]>"));
    EXPECT_FALSE(forward("<u@[IPv6:zz::1]>"));
}

TEST(Address, SyntaxErrors) {
    for (std::string_view bad :
         {"alice@example.com", "<alice>", "<alice@>", "<@example.com>", "<.alice@example.com>",
          "<alice.@example.com>", "<a..b@example.com>", "<alice@-example.com>",
          "<alice@example-.com>", "<alice@exa mple.com>", "<alice@example.com", "<a b@example.com>",
          "<alice@@example.com>", "<a@b@c>"}) {
        EXPECT_FALSE(forward(bad)) << bad;
    }
}

TEST(Address, LengthLimits) {
    std::string local(64, 'a');
    EXPECT_TRUE(forward("<" + local + "@example.com>"));
    auto too_long = forward("<" + local + "a@example.com>");
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error(), PathError::kTooLong);
    std::string label(63, 'b');
    std::string domain = label + "." + label + "." + label + "." + std::string(61, 'c');
    auto path = forward("<x@" + domain + ">");
    ASSERT_FALSE(path);  // the whole path is over 256 octets
}

TEST(Address, Utf8NeedsSmtputf8) {
    auto p = forward("<jos\xC3\xA9@example.com>", false);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), PathError::kNonAscii);
    auto q = forward("<jos\xC3\xA9@\xE4\xBE\x8B\xE3\x81\x88.jp>", true);
    ASSERT_TRUE(q);
    EXPECT_TRUE(q->mailbox.utf8);
}

TEST(Address, MalformedUtf8IsSyntaxError) {
    auto p = forward("<jos\xC3@example.com>", true);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), PathError::kSyntax);
    EXPECT_FALSE(forward("<a\xC0\xAF@example.com>", true));      // overlong '/'
    EXPECT_FALSE(forward("<a\xED\xA0\x80@example.com>", true));  // surrogate
}

TEST(Address, Utf8Validation) {
    EXPECT_TRUE(valid_utf8("plain"));
    EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));
    EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));
    EXPECT_FALSE(valid_utf8("\xE2\x82"));
}

}  // namespace
}  // namespace tern::smtp
