// The Author Domain from the From field(s): RFC 5322 address syntax with comments, quoting,
// groups and obsolete routes; exactly one From field naming exactly one domain.
#include "mailauth/author_domain.h"

#include <gtest/gtest.h>

#include "mailauth/header_field.h"

namespace tern::mailauth {
namespace {

std::string domain_of(std::string_view value) {
    AuthorDomain a = author_domain_of(value);
    return a.domain.value_or("!" + a.problem);
}

TEST(AuthorDomain, PlainAndNamedAddresses) {
    EXPECT_EQ(domain_of(" alice@Example.COM"), "example.com");
    EXPECT_EQ(domain_of(" Alice Liddell <alice@example.com>"), "example.com");
    EXPECT_EQ(domain_of(" \"Liddell, Alice\" <alice@example.com>"), "example.com");
    EXPECT_EQ(domain_of(" \"a@evil.example\" <alice@example.com>"), "example.com");
    EXPECT_EQ(domain_of(" \"odd@local\"@example.com"), "example.com");
    EXPECT_EQ(domain_of(" alice@example.com (Alice, from evil.example <x@evil.example>)"),
              "example.com");
    EXPECT_EQ(domain_of(" (c) alice (c) @ (c) mail . example . com (c)"), "mail.example.com");
    EXPECT_EQ(domain_of("\r\n\tAlice\r\n <alice@example.com>"), "example.com");
}

TEST(AuthorDomain, ObsoleteRoutesAndGroups) {
    EXPECT_EQ(domain_of(" <@relay.example,@other.example:alice@example.com>"), "example.com");
    EXPECT_EQ(domain_of(" Team: alice@example.com, bob@example.com;"), "example.com");
    EXPECT_EQ(domain_of(" undisclosed-recipients:;"), "!the From field names no address");
}

TEST(AuthorDomain, SeveralMailboxesAtOneDomainAreOneAuthorDomain) {
    EXPECT_EQ(domain_of(" alice@example.com, Bob <bob@EXAMPLE.com>"), "example.com");
    AuthorDomain two = author_domain_of(" alice@example.com, bob@example.net");
    EXPECT_FALSE(two.domain);
    EXPECT_EQ(two.problem, "the From field names 2 domains");
    EXPECT_EQ(two.domains, (std::vector<std::string>{"example.com", "example.net"}));
}

TEST(AuthorDomain, InternationalisedDomainsBecomeALabels) {
    EXPECT_EQ(domain_of(" jörg@Bücher.example"), "xn--bcher-kva.example");
    EXPECT_EQ(domain_of(" j@xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(AuthorDomain, WhatIsNotOneAddress) {
    EXPECT_EQ(domain_of(""), "!the From field names no address");
    EXPECT_EQ(domain_of(" alice"), "!the From field is not a list of addresses");
    EXPECT_EQ(domain_of(" alice@"), "!the From field is not a list of addresses");
    EXPECT_EQ(domain_of(" @example.com"), "!the From field is not a list of addresses");
    EXPECT_EQ(domain_of(" <alice@example.com"), "!the From field is not a list of addresses");
    EXPECT_EQ(domain_of(" \"unclosed <alice@example.com>"),
              "!the From field is not a list of addresses");
    EXPECT_EQ(domain_of(" alice@example.com (unclosed"),
              "!the From field is not a list of addresses");
    EXPECT_EQ(domain_of(" alice@[192.0.2.1]"),
              "!a From address has a domain literal, not a domain name");
    EXPECT_EQ(domain_of(" alice@exa!mple.com"), "!the From domain is not a DNS name");
}

TEST(AuthorDomain, ExactlyOneFromField) {
    AuthorDomainFinder none;
    none.header_field("Subject: hi\r\n");
    EXPECT_EQ(none.result().problem, "the message has no From field");
    AuthorDomainFinder one;
    one.header_field("To: bob@example.net\r\n");
    one.header_field("FROM : alice@example.com\r\n");
    EXPECT_EQ(one.result().domain, "example.com");
    AuthorDomainFinder two;
    two.header_field("From: alice@example.com\r\n");
    two.header_field("from: mallory@evil.example\r\n");
    EXPECT_FALSE(two.result().domain);
    EXPECT_EQ(two.result().problem, "the message has 2 From fields");
}

TEST(HeaderField, ValueOfANamedField) {
    EXPECT_EQ(header_value("From: a@b\r\n", "from"), " a@b");
    EXPECT_EQ(header_value("From \t: a@b\r\n", "From"), " a@b");
    EXPECT_EQ(header_value("From: a\r\n\tb\r\n", "From"), " a\r\n\tb");
    EXPECT_FALSE(header_value("Sender: a@b\r\n", "From"));
    EXPECT_FALSE(header_value("From-X: a@b\r\n", "From"));
    EXPECT_FALSE(header_value("no colon\r\n", "From"));
}

}  // namespace
}  // namespace tern::mailauth
