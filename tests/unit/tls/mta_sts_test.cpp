// Unit tests of MTA-STS parsing (RFC 8461): the policy file (3.2), the _mta-sts TXT record (3.1)
// and MX pattern matching (4.1), on the RFC's examples and on malformed input.
#include "tls/mta_sts.h"

#include <gtest/gtest.h>

namespace tern::tls {
namespace {

using Mode = StsPolicy::Mode;

// --- parse_sts_policy ---------------------------------------------------------------------------

TEST(ParseStsPolicy, TheRfcExample) {
    // RFC 8461 section 3.2.
    auto p = parse_sts_policy(
        "version: STSv1\r\n"
        "mode: enforce\r\n"
        "mx: mail.example.com\r\n"
        "mx: *.example.net\r\n"
        "mx: backupmx.example.com\r\n"
        "max_age: 604800\r\n");
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->mode, Mode::kEnforce);
    EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net",
                                               "backupmx.example.com"}));
    EXPECT_EQ(p->max_age, 604800);
}

TEST(ParseStsPolicy, LineFeedsAloneAndNoFinalLineEnd) {
    auto p = parse_sts_policy("version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 86400");
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->mode, Mode::kTesting);
    EXPECT_EQ(p->mx, std::vector<std::string>{"mx.example.org"});
    EXPECT_EQ(p->max_age, 86400);
}

TEST(ParseStsPolicy, FieldsInAnyOrderWithSpacesAroundValues) {
    auto p = parse_sts_policy(
        "max_age:86400\r\nmx:   mx.example.org  \r\nmode:\tenforce\r\n"
        "version: STSv1\r\n");
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->mx, std::vector<std::string>{"mx.example.org"});
}

TEST(ParseStsPolicy, MxPatternsAreLowerCased) {
    auto p = parse_sts_policy("version: STSv1\nmode: enforce\nmx: MX.Example.ORG\nmax_age: 1\n");
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->mx, std::vector<std::string>{"mx.example.org"});
}

TEST(ParseStsPolicy, UnknownKeysAreIgnored) {
    auto p = parse_sts_policy(
        "version: STSv1\nmode: enforce\nx-vendor: whatever: else\nmx: mx.example.org\n"
        "max_age: 60\n");
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->mode, Mode::kEnforce);
}

TEST(ParseStsPolicy, ModeNoneNeedsNoMx) {
    auto p = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400\n");
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->mode, Mode::kNone);
    EXPECT_TRUE(p->mx.empty());
}

TEST(ParseStsPolicy, EnforceAndTestingNeedAnMx) {
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 86400\n"));
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: testing\nmax_age: 86400\n"));
}

TEST(ParseStsPolicy, MissingVersionModeOrMaxAgeIsRefused) {
    EXPECT_FALSE(parse_sts_policy("mode: enforce\nmx: a.example\nmax_age: 60\n"));
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmx: a.example\nmax_age: 60\n"));
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmx: a.example\n"));
    EXPECT_FALSE(parse_sts_policy(""));
}

TEST(ParseStsPolicy, UnknownVersionOrModeIsRefused) {
    EXPECT_FALSE(parse_sts_policy("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 60\n"));
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 60\n"));
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 60\n"));
}

TEST(ParseStsPolicy, MaxAgeLimits) {
    auto with = [](std::string age) {
        return parse_sts_policy("version: STSv1\nmode: none\nmax_age: " + age + "\n");
    };
    ASSERT_TRUE(with("0"));
    EXPECT_EQ(with("0")->max_age, 0);
    ASSERT_TRUE(with("31557600"));  // one year, the most RFC 8461 allows
    EXPECT_EQ(with("31557600")->max_age, 31557600);
    for (const char* bad :
         {"31557601", "-1", "+5", "1.5", "5s", "", "abc", "99999999999", "0000000000086400"})
        EXPECT_FALSE(with(bad)) << bad;
}

TEST(ParseStsPolicy, MalformedLinesAndMxValuesAreRefused) {
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 60\n"));
    EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmx:\nmax_age: 60\n"));
    EXPECT_FALSE(
        parse_sts_policy("version: STSv1\nmode: enforce\nmx: a.example b.example\nmax_age: 60\n"));
}

TEST(ParseStsPolicy, SizeLimit) {
    std::string head = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 60\n";
    std::string fits = head + std::string(64 * 1024 - head.size(), '\n');
    ASSERT_EQ(fits.size(), 64u * 1024);
    EXPECT_TRUE(parse_sts_policy(fits));
    EXPECT_FALSE(parse_sts_policy(fits + "\n"));
}

// --- parse_sts_record ---------------------------------------------------------------------------

TEST(ParseStsRecord, TheRfcExample) {
    EXPECT_EQ(parse_sts_record("v=STSv1; id=20160831085700Z;"), "20160831085700Z");
}

TEST(ParseStsRecord, SpacingAndFinalSemicolonAreOptional) {
    EXPECT_EQ(parse_sts_record("v=STSv1;id=1"), "1");
    EXPECT_EQ(parse_sts_record("v=STSv1 ;  id=abc ; "), "abc");
}

TEST(ParseStsRecord, VersionMustComeFirst) {
    EXPECT_FALSE(parse_sts_record("id=1; v=STSv1"));
    EXPECT_FALSE(parse_sts_record("v=STSv2; id=1"));
    EXPECT_FALSE(parse_sts_record("V=STSv1; id=1"));
    EXPECT_FALSE(parse_sts_record("v=spf1 -all"));
}

TEST(ParseStsRecord, IdIsOneTo32Alphanumerics) {
    EXPECT_FALSE(parse_sts_record("v=STSv1"));
    EXPECT_FALSE(parse_sts_record("v=STSv1;"));
    EXPECT_FALSE(parse_sts_record("v=STSv1; id="));
    EXPECT_FALSE(parse_sts_record("v=STSv1; id=2016-08-31"));
    EXPECT_FALSE(parse_sts_record("v=STSv1; id=a b"));
    EXPECT_EQ(parse_sts_record("v=STSv1; id=" + std::string(32, 'z')), std::string(32, 'z'));
    EXPECT_FALSE(parse_sts_record("v=STSv1; id=" + std::string(33, 'z')));
}

TEST(ParseStsRecord, ExtensionFieldsAreSkipped) {
    EXPECT_EQ(parse_sts_record("v=STSv1; ext=value; id=7; other=x"), "7");
    EXPECT_FALSE(parse_sts_record("v=STSv1; id=7; junk"));  // a field without '='
}

// --- sts_mx_matches / sts_mx_allowed
// ----------------------------------------------------------------

TEST(StsMxMatches, ExactNamesIgnoringCaseAndATrailingDot) {
    EXPECT_TRUE(sts_mx_matches("mail.example.com", "mail.example.com"));
    EXPECT_TRUE(sts_mx_matches("mail.example.com", "MAIL.Example.COM."));
    EXPECT_TRUE(sts_mx_matches("Mail.Example.com", "mail.example.com"));
    EXPECT_FALSE(sts_mx_matches("mail.example.com", "mail2.example.com"));
    EXPECT_FALSE(sts_mx_matches("mail.example.com", "example.com"));
    EXPECT_FALSE(sts_mx_matches("", ""));
}

TEST(StsMxMatches, WildcardCoversExactlyOneLeftmostLabel) {
    EXPECT_TRUE(sts_mx_matches("*.example.net", "mx1.example.net"));
    EXPECT_TRUE(sts_mx_matches("*.example.net", "MX1.EXAMPLE.NET."));
    EXPECT_FALSE(sts_mx_matches("*.example.net", "example.net"));
    EXPECT_FALSE(sts_mx_matches("*.example.net", "a.b.example.net"));
    EXPECT_FALSE(sts_mx_matches("*.example.net", ".example.net"));
    EXPECT_FALSE(sts_mx_matches("*.example.net", "mx1.example.net.evil"));
    EXPECT_FALSE(sts_mx_matches("*.example.net", "mx1.notexample.net"));
    // A star anywhere else is a literal character, which no host name has.
    EXPECT_FALSE(sts_mx_matches("mx*.example.net", "mx1.example.net"));
    EXPECT_FALSE(sts_mx_matches("*", "localhost"));
}

TEST(StsMxAllowed, AnyPatternOfThePolicy) {
    StsPolicy p;
    p.mode = Mode::kEnforce;
    p.mx = {"mail.example.com", "*.example.net"};
    EXPECT_TRUE(sts_mx_allowed(p, "mail.example.com"));
    EXPECT_TRUE(sts_mx_allowed(p, "backup.example.net"));
    EXPECT_FALSE(sts_mx_allowed(p, "mail.example.org"));
    EXPECT_FALSE(sts_mx_allowed(StsPolicy{}, "mail.example.com"));
}

TEST(ModeName, EachMode) {
    EXPECT_EQ(mode_name(Mode::kEnforce), "enforce");
    EXPECT_EQ(mode_name(Mode::kTesting), "testing");
    EXPECT_EQ(mode_name(Mode::kNone), "none");
}

}  // namespace
}  // namespace tern::tls
