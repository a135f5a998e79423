// SPF macros: the examples of RFC 7208 section 7.4, transformers, delimiters, URL escaping,
// the letters allowed only in explanations, and syntax errors.
#include "mailauth/spf_macro.h"

#include <gtest/gtest.h>

#include "base/text.h"

namespace tern::mailauth {
namespace {

MacroValues rfc_values(const char* ip = "192.0.2.3") {
    MacroValues v;
    v.sender = "strong-bad@email.example.com";
    v.local_part = "strong-bad";
    v.sender_domain = "email.example.com";
    v.domain = "email.example.com";
    v.ip = *IpAddress::parse(ip);
    v.helo = "mx.example.org";
    v.validated = "mx.example.org";
    v.receiver = "receiver.example.net";
    v.now = 1234567890;
    return v;
}

std::string expand(std::string_view text, MacroUse use = MacroUse::kDomain,
                   const MacroValues& v = rfc_values()) {
    auto r = expand_macros(text, use, v);
    return r ? *r : "ERROR: " + r.error().message;
}

TEST(SpfMacro, RfcExamples) {
    EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
    EXPECT_EQ(expand("%{o}"), "email.example.com");
    EXPECT_EQ(expand("%{d}"), "email.example.com");
    EXPECT_EQ(expand("%{d4}"), "email.example.com");
    EXPECT_EQ(expand("%{d3}"), "email.example.com");
    EXPECT_EQ(expand("%{d2}"), "example.com");
    EXPECT_EQ(expand("%{d1}"), "com");
    EXPECT_EQ(expand("%{dr}"), "com.example.email");
    EXPECT_EQ(expand("%{d2r}"), "example.email");
    EXPECT_EQ(expand("%{l}"), "strong-bad");
    EXPECT_EQ(expand("%{l-}"), "strong.bad");
    EXPECT_EQ(expand("%{lr}"), "strong-bad");
    EXPECT_EQ(expand("%{lr-}"), "bad.strong");
    EXPECT_EQ(expand("%{l1r-}"), "strong");
    EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
    EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
    EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"),
              "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"),
              "3.2.0.192.in-addr.strong.lp._spf.example.com");
    EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"),
              "example.com.trusted-domains.example.net");
}

TEST(SpfMacro, Ipv6DotFormat) {
    // Nibbles are written in upper case (the RFC's example has lower case; DNS ignores case,
    // and the openspf test suite expects upper case in explanations).
    EXPECT_TRUE(ascii_iequals(
        expand("%{ir}.%{v}._spf.%{d2}", MacroUse::kDomain, rfc_values("2001:db8::cb01")),
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"));
    EXPECT_EQ(expand("%{c}", MacroUse::kExplanation, rfc_values("2001:DB8::CB01")),
              "2001:db8::cb01");
    EXPECT_EQ(expand("%{v}", MacroUse::kDomain, rfc_values("2001:db8::cb01")), "ip6");
    // An IPv4-mapped client is IPv4 (section 5).
    EXPECT_EQ(expand("%{i} %{v}", MacroUse::kExplanation, rfc_values("::ffff:192.0.2.3")),
              "192.0.2.3 in-addr");
}

TEST(SpfMacro, Escapes) {
    EXPECT_EQ(expand("a%%b%_c%-d"), "a%b c%20d");
    EXPECT_EQ(expand("%{p}.%{h}"), "mx.example.org.mx.example.org");
}

TEST(SpfMacro, UpperCaseIsUrlEscaped) {
    MacroValues v = rfc_values();
    v.local_part = "~jack&jill=up-a_b3.c";
    EXPECT_EQ(expand("%{L}", MacroUse::kDomain, v), "~jack%26jill%3Dup-a_b3.c");
    EXPECT_EQ(expand("%{S}"), "strong-bad%40email.example.com");
    EXPECT_EQ(expand("%{D2}"), "example.com");
}

TEST(SpfMacro, SeveralDelimiters) {
    MacroValues v = rfc_values();
    v.local_part = "foo-bar+zip+quux";
    EXPECT_EQ(expand("%{l2r+-}", MacroUse::kDomain, v), "bar.foo");
    EXPECT_EQ(expand("%{l=,/_}", MacroUse::kDomain, v), "foo-bar+zip+quux");
    EXPECT_EQ(expand("%{l+}", MacroUse::kDomain, v), "foo-bar.zip.quux");
}

TEST(SpfMacro, LargePartCountsMeanAll) {
    EXPECT_EQ(expand("%{d128}"), "email.example.com");
    EXPECT_EQ(expand("%{d99999999999999999999}"), "email.example.com");
}

TEST(SpfMacro, ExplanationOnlyLetters) {
    EXPECT_EQ(expand("%{c} %{r} %{t}", MacroUse::kExplanation),
              "192.0.2.3 receiver.example.net 1234567890");
    for (const char* s : {"%{c}", "%{r}", "%{t}", "%{C}"})
        EXPECT_FALSE(check_macros(s, MacroUse::kDomain)) << s;
    // Spaces belong to explain-strings only.
    EXPECT_TRUE(check_macros("a b", MacroUse::kExplanation));
    EXPECT_FALSE(check_macros("a b", MacroUse::kDomain));
}

TEST(SpfMacro, SyntaxErrors) {
    for (const char* s : {"%", "a%", "%a", "%(ir)", "%{", "%{}", "%{x}", "%{d0}", "%{d00}",
                          "%{d2x}", "%{dr2}", "%{d;}", "%{d", "foo%.bar", "\x80", "a\tb"})
        EXPECT_FALSE(check_macros(s, MacroUse::kExplanation)) << s;
    for (const char* s : {"", "plain", "%{d}", "%{D2R.-+,/_=}", "%%%_%-", "%{i1r}"})
        EXPECT_TRUE(check_macros(s, MacroUse::kDomain)) << s;
}

TEST(SpfMacro, FindsThePMacro) {
    EXPECT_TRUE(uses_validated_name("%{p}.example.com"));
    EXPECT_TRUE(uses_validated_name("x %{P2}"));
    EXPECT_FALSE(uses_validated_name("%%{p}"));
    EXPECT_FALSE(uses_validated_name("%{d}"));
}

TEST(SpfMacro, DomainEnd) {
    EXPECT_TRUE(ends_with_macro("foo.%{d}"));
    EXPECT_TRUE(ends_with_macro("foo%-"));
    EXPECT_FALSE(ends_with_macro("%{d}.com"));
    EXPECT_FALSE(ends_with_macro("%%{d"));
}

}  // namespace
}  // namespace tern::mailauth
