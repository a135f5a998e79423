// Address lists as `sendmail -t` reads them (RFC 5322 section 3.4): display names, angle
// addresses, groups, comments, quoted strings, routes, folded values, and what is no address.
#include "message/address_list.h"

#include <gtest/gtest.h>

namespace tern::message {
namespace {

using Strings = std::vector<std::string>;

Strings addresses(std::string_view value) {
    return parse_address_list(value).addresses;
}

TEST(AddressList, MailboxesAndDisplayNames) {
    EXPECT_EQ(addresses("alice@example.org"), (Strings{"alice@example.org"}));
    EXPECT_EQ(addresses(" Alice Smith <alice@example.org>, bob@example.net "),
              (Strings{"alice@example.org", "bob@example.net"}));
    // A comma inside a quoted display name does not split.
    EXPECT_EQ(addresses("\"Smith, Alice\" <alice@example.org>,\"x\" <b@y.example>"),
              (Strings{"alice@example.org", "b@y.example"}));
    EXPECT_EQ(addresses("\"quoted local\"@example.org"), (Strings{"\"quoted local\"@example.org"}));
}

TEST(AddressList, CommentsAndFolding) {
    EXPECT_EQ(addresses("alice@example.org (Alice, (nested) team)"),
              (Strings{"alice@example.org"}));
    EXPECT_EQ(addresses("(lead) Alice\r\n <alice@example.org>,\r\n\tbob@example.net"),
              (Strings{"alice@example.org", "bob@example.net"}));
    EXPECT_EQ(addresses("alice @ example.org"), (Strings{"alice@example.org"}));
}

TEST(AddressList, Groups) {
    EXPECT_EQ(addresses("team: alice@example.org, Bob <bob@example.net>;, carol@example.com"),
              (Strings{"alice@example.org", "bob@example.net", "carol@example.com"}));
    auto empty = parse_address_list("undisclosed-recipients:;");
    EXPECT_TRUE(empty.addresses.empty());
    EXPECT_TRUE(empty.invalid.empty());
}

TEST(AddressList, RoutesGiveTheFinalAddress) {
    EXPECT_EQ(addresses("<@relay.example,@other.example:alice@example.org>"),
              (Strings{"alice@example.org"}));
}

TEST(AddressList, WhatIsNoAddress) {
    auto list = parse_address_list("bob, (team) carol, <>, alice@example.org, @x, a@b c");
    EXPECT_EQ(list.addresses, (Strings{"alice@example.org"}));
    EXPECT_EQ(list.invalid, (Strings{"bob", "carol", "<>", "@x", "a@b c"}));
}

TEST(AddressList, FieldValuesUnfolded) {
    std::vector<std::string> fields{"To: a@x.example,\r\n b@y.example\r\n", "Subject: s\r\n",
                                    "to: c@z.example\r\n"};
    EXPECT_EQ(field_values(fields, "TO"), (Strings{" a@x.example, b@y.example", " c@z.example"}));
    EXPECT_TRUE(field_values(fields, "Cc").empty());
}

}  // namespace
}  // namespace tern::message
