// SPF record parsing (RFC 7208 sections 4.5, 4.6, 5, 6, 12): record selection, every
// mechanism with its domain-spec and CIDR lengths, modifiers, and the syntax errors that make
// a permerror; plus the client address type it needs.
#include "mailauth/spf_record.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

SpfRecord parse_ok(std::string_view text) {
    auto r = parse_spf_record(text);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
    return r ? *r : SpfRecord{};
}

bool parses(std::string_view text) {
    return parse_spf_record(text).has_value();
}

TEST(SpfRecord, Selection) {
    EXPECT_TRUE(is_spf_record("v=spf1"));
    EXPECT_TRUE(is_spf_record("v=spf1 -all"));
    EXPECT_TRUE(is_spf_record("V=SpF1 -all"));
    EXPECT_FALSE(is_spf_record("v=spf10"));
    EXPECT_FALSE(is_spf_record("v=spf1mx"));
    EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
    EXPECT_FALSE(is_spf_record("v=spf2.0/pra"));
    EXPECT_FALSE(is_spf_record("spf1"));
}

TEST(SpfRecord, EmptyAndSpaces) {
    EXPECT_TRUE(parse_ok("v=spf1").directives.empty());
    EXPECT_EQ(parse_ok("v=spf1   a    -all  ").directives.size(), 2u);
    EXPECT_FALSE(parses("v=spf1 a\t-all"));
    EXPECT_FALSE(parses("v=spf1 a:ctrl.example.com\rptr -all"));
    EXPECT_FALSE(parses("v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all"));
}

TEST(SpfRecord, Qualifiers) {
    auto r = parse_ok("v=spf1 all +all -all ~all ?all");
    ASSERT_EQ(r.directives.size(), 5u);
    EXPECT_EQ(r.directives[0].qualifier, SpfQualifier::kPass);
    EXPECT_EQ(r.directives[1].qualifier, SpfQualifier::kPass);
    EXPECT_EQ(r.directives[2].qualifier, SpfQualifier::kFail);
    EXPECT_EQ(r.directives[3].qualifier, SpfQualifier::kSoftFail);
    EXPECT_EQ(r.directives[4].qualifier, SpfQualifier::kNeutral);
    EXPECT_EQ(r.directives[2].text, "-all");
    EXPECT_FALSE(parses("v=spf1 -all."));
    EXPECT_FALSE(parses("v=spf1 -all:foobar"));
    EXPECT_FALSE(parses("v=spf1 -all/8"));
    EXPECT_FALSE(parses("v=spf1 +"));
    EXPECT_FALSE(parses("v=spf1 !all"));
}

TEST(SpfRecord, MechanismNamesIgnoreCase) {
    auto r = parse_ok("v=spf1 A MX:Example.COM INCLUDE:x.example.com -ALL");
    ASSERT_EQ(r.directives.size(), 4u);
    EXPECT_EQ(r.directives[0].mechanism, SpfMechanism::kA);
    EXPECT_EQ(r.directives[1].mechanism, SpfMechanism::kMx);
    EXPECT_EQ(r.directives[1].domain_spec, "Example.COM");
    EXPECT_EQ(r.directives[2].mechanism, SpfMechanism::kInclude);
}

TEST(SpfRecord, DualCidr) {
    auto check = [](std::string_view text, std::string spec, unsigned c4, unsigned c6) {
        auto r = parse_ok(text);
        ASSERT_EQ(r.directives.size(), 1u) << text;
        EXPECT_EQ(r.directives[0].domain_spec, spec) << text;
        EXPECT_EQ(r.directives[0].cidr4, c4) << text;
        EXPECT_EQ(r.directives[0].cidr6, c6) << text;
    };
    check("v=spf1 a", "", 32, 128);
    check("v=spf1 a/24", "", 24, 128);
    check("v=spf1 a//64", "", 32, 64);
    check("v=spf1 a/24//64", "", 24, 64);
    check("v=spf1 a/0//0", "", 0, 0);
    check("v=spf1 mx:foo.example.com/24", "foo.example.com", 24, 128);
    check("v=spf1 mx:foo.example.com/24//96", "foo.example.com", 24, 96);
    check("v=spf1 a:foo:bar/baz.example.com", "foo:bar/baz.example.com", 32, 128);
    check("v=spf1 a:%{d}/16", "%{d}", 16, 128);
    for (const char* bad : {"v=spf1 a/33", "v=spf1 a//129", "v=spf1 a/24/64", "v=spf1 a/032",
                            "v=spf1 a//0128", "v=spf1 a/", "v=spf1 a//", "v=spf1 a/24x",
                            "v=spf1 mx/-1", "v=spf1 a:", "v=spf1 mx: -all", "v=spf1 a:/24"})
        EXPECT_FALSE(parses(bad)) << bad;
}

TEST(SpfRecord, DomainSpecs) {
    for (const char* good : {"example.com", "example.com.", "foo.example.xn--zckzah", "a-1.b.c0m",
                             "%{d}", "%{i}.%{d2}", "_spf.%{d2}", "%{H}.bar", "mail.example...com",
                             "foo%-", ".com", "x.123-456", "%{ir}.%{v}._spf.%{d2}"})
        EXPECT_TRUE(check_domain_spec(good)) << good;
    for (const char* bad :
         {"", "foo-bar", "museum", "museum.", "abc.123", "111.222.33.44", "example.-com",
          "example.com-", "example.com:8080", "%{c}.example.com", "%{r}.example.com",
          "%{t}.example.com", "%{d}.", "ex ample.com", "%x.example.com"})
        EXPECT_FALSE(check_domain_spec(bad)) << bad;
    EXPECT_FALSE(check_domain_spec(std::string_view("foo.example.com\0", 16)));
}

TEST(SpfRecord, IncludeExistsPtr) {
    EXPECT_EQ(parse_ok("v=spf1 include:_spf.example.com").directives[0].domain_spec,
              "_spf.example.com");
    EXPECT_EQ(parse_ok("v=spf1 exists:%{i}.bl.example.com").directives[0].domain_spec,
              "%{i}.bl.example.com");
    EXPECT_EQ(parse_ok("v=spf1 ptr").directives[0].domain_spec, "");
    EXPECT_EQ(parse_ok("v=spf1 ptr:example.com").directives[0].domain_spec, "example.com");
    for (const char* bad : {"v=spf1 include", "v=spf1 include:", "v=spf1 include:x.example.com/24",
                            "v=spf1 exists", "v=spf1 exists:", "v=spf1 exists:x.example.com/24",
                            "v=spf1 ptr:", "v=spf1 ptr/0", "v=spf1 ptr//64"})
        EXPECT_FALSE(parses(bad)) << bad;
}

TEST(SpfRecord, Ip4) {
    auto r = parse_ok("v=spf1 ip4:192.0.2.0/24 ip4:1.2.3.4 ip4:0.0.0.0/0");
    ASSERT_EQ(r.directives.size(), 3u);
    EXPECT_EQ(r.directives[0].network, *IpAddress::parse("192.0.2.0"));
    EXPECT_EQ(r.directives[0].cidr4, 24u);
    EXPECT_EQ(r.directives[1].cidr4, 32u);
    EXPECT_EQ(r.directives[2].cidr4, 0u);
    for (const char* bad :
         {"v=spf1 ip4", "v=spf1 ip4:", "v=spf1 ip4:1.2.3", "v=spf1 ip4:1.2.3.4.5",
          "v=spf1 ip4:1.2.3.4/33", "v=spf1 ip4:1.2.3.4/032", "v=spf1 ip4:1.2.3.4//32",
          "v=spf1 ip4:1.2.3.4:8080", "v=spf1 ip4:01.2.3.4", "v=spf1 ip4:256.2.3.4",
          "v=spf1 ip4:1.2.3.4/", "v=spf1 ip4:2001:db8::1", "v=spf1 ip4:a.b.c.d"})
        EXPECT_FALSE(parses(bad)) << bad;
}

TEST(SpfRecord, Ip6) {
    auto r = parse_ok("v=spf1 ip6:2001:db8::/32 ip6:::1.1.1.1/0 ip6:Cafe:Babe:8000::/33");
    ASSERT_EQ(r.directives.size(), 3u);
    EXPECT_TRUE(r.directives[0].network.is_v6());
    EXPECT_EQ(r.directives[0].cidr6, 32u);
    EXPECT_EQ(r.directives[1].cidr6, 0u);
    // An IPv4-mapped network stays IPv6, so it never matches an IPv4 client.
    EXPECT_TRUE(parse_ok("v=spf1 ip6:::ffff:1.2.3.4").directives[0].network.is_v6());
    for (const char* bad : {"v=spf1 ip6", "v=spf1 ip6::CAFE::BABE", "v=spf1 ip6:::1/129",
                            "v=spf1 ip6:::1.1.1.1//33", "v=spf1 ip6:1.2.3.4", "v=spf1 ip6:::1/064"})
        EXPECT_FALSE(parses(bad)) << bad;
}

TEST(SpfRecord, Modifiers) {
    auto r = parse_ok("v=spf1 -all redirect=_spf.example.com exp=explain.%{d}");
    EXPECT_EQ(r.redirect, "_spf.example.com");
    EXPECT_EQ(r.exp, "explain.%{d}");
    EXPECT_TRUE(parses("v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all"));
    EXPECT_TRUE(parses("v=spf1 default=pass"));
    EXPECT_TRUE(parses("v=spf1 default=+"));
    EXPECT_TRUE(parses("v=spf1 empty="));
    EXPECT_TRUE(parses("v=spf1 REDIRECT=example.com"));
    for (const char* bad :
         {"v=spf1 moo.cow/far_out=man:dog/cat", "v=spf1 moo.cow:far_out=man:dog/cat",
          "v=spf1 1up=foo", "v=spf1 =all", "v=spf1 redirect:t2.example.com",
          "v=spf1 exp=", "v=spf1 redirect=", "v=spf1 exp=-all", "v=spf1 redirect=-all ?all",
          "v=spf1 exp=a.example.com exp=b.example.com", "v=spf1 redirect=a.com redirect=a.com",
          "v=spf1 -all foo=%abc", "v=spf1 exp=%{r}.example.com", "v=spf1 foo=%{c}",
          "v=spf1 -redirect=example.com"})
        EXPECT_FALSE(parses(bad)) << bad;
}

TEST(SpfRecord, ErrorsAnywhere) {
    // Section 4.6: a syntax error after a matching mechanism is still found.
    EXPECT_FALSE(parses("v=spf1 ip4:1.2.3.4 -all moo"));
    EXPECT_FALSE(parses("v=spf1 +all a:foo.example.com\x80"));
}

TEST(SpfRecord, DnsTerms) {
    auto r = parse_ok("v=spf1 all include:a.example.com a mx ptr ip4:1.2.3.4 ip6:::1 exists:x.com");
    std::vector<bool> dns;
    for (const auto& d : r.directives)
        dns.push_back(d.needs_dns());
    EXPECT_EQ(dns, (std::vector<bool>{false, true, true, true, true, false, false, true}));
}

TEST(SpfAddress, Forms) {
    auto v4 = IpAddress::parse("192.0.2.3");
    ASSERT_TRUE(v4);
    EXPECT_FALSE(v4->is_v6());
    EXPECT_EQ(v4->str(), "192.0.2.3");
    EXPECT_EQ(v4->reverse_name(), "3.2.0.192.in-addr.arpa");
    auto mapped = IpAddress::parse("::FFFF:192.0.2.3");
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, *v4);
    auto v6 = IpAddress::parse("2001:DB8::CB01");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->is_v6());
    EXPECT_EQ(v6->str(), "2001:db8::cb01");
    EXPECT_EQ(v6->reverse_name(),
              "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa");
    EXPECT_EQ(v6->dotted(), "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "[1.2.3.4]", "2001:db8::1%eth0", "host"})
        EXPECT_FALSE(IpAddress::parse(bad)) << bad;
}

TEST(SpfAddress, Networks) {
    auto a = *IpAddress::parse("192.0.2.130");
    EXPECT_TRUE(a.same_network(*IpAddress::parse("192.0.2.0"), 24));
    EXPECT_TRUE(a.same_network(*IpAddress::parse("192.0.2.128"), 25));
    EXPECT_FALSE(a.same_network(*IpAddress::parse("192.0.2.0"), 25));
    EXPECT_TRUE(a.same_network(*IpAddress::parse("10.0.0.0"), 0));
    EXPECT_FALSE(a.same_network(*IpAddress::parse("::"), 0));  // families never mix
    auto b = *IpAddress::parse("2001:db8:1234::dead:beef");
    EXPECT_TRUE(b.same_network(*IpAddress::parse("2001:db8:1234::cafe:babe"), 64));
    EXPECT_FALSE(b.same_network(*IpAddress::parse("2001:db8:1234::cafe:babe"), 128));
    EXPECT_TRUE(b.same_network(*IpAddress::parse_ipv6("cafe:babe:8000::"), 0));
    EXPECT_TRUE(IpAddress::parse_ipv6("::ffff:1.2.3.4")->is_v6());
}

}  // namespace
}  // namespace tern::mailauth
