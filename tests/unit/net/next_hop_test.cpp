// Unit tests of NextHop: parsing of Postfix-style next-hop text ("[host]:port", "[ip]", "host",
// "host:port"), refusal of bad ports, brackets, spaces and bare IPv6, and the canonical str().
#include "net/next_hop.h"

#include <gtest/gtest.h>

namespace tern::net {
namespace {

std::string show(const std::optional<NextHop>& h) {
    if (!h) return "refused";
    return h->host + " port " + std::to_string(h->port) + (h->mx_lookup ? " mx" : " no-mx");
}

std::string parse(std::string_view text, std::uint16_t default_port = 25) {
    return show(NextHop::parse(text, default_port));
}

// --- accepted forms -----------------------------------------------------------------------------

TEST(NextHop, BracketedHostWithPortSkipsMxLookup) {
    EXPECT_EQ(parse("[mail.example.net]:587"), "mail.example.net port 587 no-mx");
}

TEST(NextHop, BracketedIpv4WithoutPortTakesTheDefaultPort) {
    EXPECT_EQ(parse("[192.0.2.1]"), "192.0.2.1 port 25 no-mx");
    EXPECT_EQ(parse("[192.0.2.1]", 2525), "192.0.2.1 port 2525 no-mx");
}

TEST(NextHop, BracketedIpv6WithAndWithoutPort) {
    EXPECT_EQ(parse("[::1]:25"), "::1 port 25 no-mx");
    EXPECT_EQ(parse("[2001:db8::1]"), "2001:db8::1 port 25 no-mx");
    EXPECT_EQ(parse("[2001:db8::1]:10025"), "2001:db8::1 port 10025 no-mx");
}

TEST(NextHop, PlainHostUsesMxLookupAndTheDefaultPort) {
    EXPECT_EQ(parse("example.net"), "example.net port 25 mx");
    EXPECT_EQ(parse("example.net", 587), "example.net port 587 mx");
}

TEST(NextHop, PlainHostWithPortUsesMxLookup) {
    EXPECT_EQ(parse("example.net:2525"), "example.net port 2525 mx");
}

TEST(NextHop, HostIsLowerCased) {
    EXPECT_EQ(parse("Mail.Example.NET"), "mail.example.net port 25 mx");
    EXPECT_EQ(parse("[MX.Example.NET]:25"), "mx.example.net port 25 no-mx");
    EXPECT_EQ(parse("[2001:DB8::A]"), "2001:db8::a port 25 no-mx");
}

TEST(NextHop, PortsOneAnd65535AreAccepted) {
    EXPECT_EQ(parse("[h.example]:1"), "h.example port 1 no-mx");
    EXPECT_EQ(parse("h.example:65535"), "h.example port 65535 mx");
}

// --- refused forms ------------------------------------------------------------------------------

TEST(NextHop, BadPortsAreRefused) {
    for (const char* t :
         {"[h.example]:0", "[h.example]:65536", "[h.example]:abc", "h.example:0", "h.example:65536",
          "h.example:abc", "[h.example]:", "h.example:", "[h.example]:-1", "[h.example]:+25",
          "[h.example]:25x", "[h.example]: 25", "[h.example]:25 ", "[h.example]:99999999999",
          "h.example:4294967321", "[h.example]:25:26", "h.example:25:26"})
        EXPECT_EQ(parse(t), "refused") << t;
}

TEST(NextHop, EmptyHostIsRefused) {
    for (const char* t : {"", "[]", "[]:25", ":25", ":", "["})
        EXPECT_EQ(parse(t), "refused") << t;
}

TEST(NextHop, SpacesAreRefused) {
    for (const char* t : {"mail example", " mail.example", "mail.example ", "[mail example]",
                          "mail.example\t", "[ ::1]", "[::1] ", " [::1]", "mail.example :25"})
        EXPECT_EQ(parse(t), "refused") << t;
}

TEST(NextHop, StrayBracketsAreRefused) {
    for (const char* t : {"[a.example", "a.example]", "[a[b.example]", "[a]b.example]",
                          "a]b.example", "a[b.example", "[a.example]]:25", "[a.example]x",
                          "[a.example]:25]", "[[a.example]]", "x[a.example]"})
        EXPECT_EQ(parse(t), "refused") << t;
}

TEST(NextHop, Ipv6WithoutBracketsIsRefused) {
    // "2001:db8::1:25" could be an address or an address and a port: brackets are required.
    for (const char* t : {"::1", "2001:db8::1", "2001:db8::1:25", "fe80::1", "::ffff:192.0.2.1"})
        EXPECT_EQ(parse(t), "refused") << t;
}

// --- str ----------------------------------------------------------------------------------------

TEST(NextHop, StrGivesTheCanonicalFormWithThePort) {
    EXPECT_EQ(NextHop::parse("[Mail.Example.net]", 25)->str(), "[mail.example.net]:25");
    EXPECT_EQ(NextHop::parse("example.net", 587)->str(), "example.net:587");
    EXPECT_EQ(NextHop::parse("[::1]:2525", 25)->str(), "[::1]:2525");
}

TEST(NextHop, StrParsesBackToTheSameNextHop) {
    for (const char* t : {"[mail.example.net]:587", "[192.0.2.1]", "[::1]:25", "example.net",
                          "example.net:2525", "[2001:db8::1]"}) {
        auto a = NextHop::parse(t, 25);
        ASSERT_TRUE(a) << t;
        EXPECT_EQ(parse(a->str(), 9999), show(a)) << t;
    }
}

}  // namespace
}  // namespace tern::net
