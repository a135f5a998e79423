// Authentication-Results (RFC 8601): the field Tern writes (quoting, folding, one entry per DKIM
// signature with a distinguishing header.b), the parser on the RFC's own examples and on CFWS
// everywhere, and the section 5 test for fields that claim Tern's authserv-id.
#include "mailauth/auth_results.h"

#include <gtest/gtest.h>

#include "mailauth/auth_results_builder.h"

namespace tern::mailauth {
namespace {

AuthenticationResults parse(std::string_view value) {
    auto r = parse_authentication_results(value);
    EXPECT_TRUE(r) << value << ": " << (r ? "" : r.error());
    return r.value_or(AuthenticationResults{});
}

// Every line of a field within 78 octets, ending in CRLF, continuation lines folded.
void expect_folded(const std::string& field) {
    std::size_t start = 0;
    while (start < field.size()) {
        std::size_t end = field.find("\r\n", start);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - start, 78u) << field.substr(start, end - start);
        if (start > 0) {
            EXPECT_TRUE(field[start] == '\t' || field[start] == ' ');
        }
        start = end + 2;
    }
}

TEST(AuthResultsBuilder, AFieldWithEveryMethod) {
    SpfEvidence spf{AuthResult::kPass,
                    "example.com",
                    SpfEvidence::Identity::kMailFrom,
                    "bounce@example.com",
                    {}};
    std::vector<DkimOutcome> sigs{
        {AuthResult::kPass, "example.com", "2024", "abcdefgh12345/+=xyz", {}},
        {AuthResult::kFail, "example.net", "s1", "abcdefgh9999", "body hash did not verify"}};
    DmarcResult dmarc;
    dmarc.result = AuthResult::kPass;
    dmarc.author_domain = "example.com";
    dmarc.record = parse_dmarc_record("v=DMARC1; p=reject; sp=quarantine");
    dmarc.policy = DmarcPolicy::kReject;
    ArcEvidence arc{AuthResult::kPass, 2, "forwarder.example", {}};

    AuthenticationResults field{"mx.tern.example", "", {spf_result_info(spf)}};
    for (auto& d : dkim_result_infos(sigs))
        field.results.push_back(d);
    field.results.push_back(dmarc_result_info(dmarc, nullptr));
    field.results.push_back(arc_result_info(arc));
    std::string text = format_authentication_results(field);
    EXPECT_EQ(text,
              "Authentication-Results: mx.tern.example;\r\n"
              "\tspf=pass smtp.mailfrom=bounce@example.com;\r\n"
              "\tdkim=pass header.d=example.com header.s=2024 header.b=abcdefgh1;\r\n"
              "\tdkim=fail reason=\"body hash did not verify\" header.d=example.net header.s=s1\r\n"
              "\theader.b=abcdefgh9;\r\n"
              "\tdmarc=pass (p=reject sp=quarantine) header.from=example.com\r\n"
              "\tpolicy.dmarc=reject;\r\n"
              "\tarc=pass (i=2 d=forwarder.example)\r\n");
    expect_folded(text);
}

TEST(AuthResultsBuilder, ValuesThatAreNotTokensAreQuoted) {
    AuthenticationResults field{"mx \"quoted\" id", "", {}};
    field.results.push_back({"dkim",
                             "",
                             "pass",
                             "a (nested) comment\r\nwith CRLF",
                             "x\"y\\z",
                             {{"header", "b", "ab/c+d=e"},
                              {"smtp", "mailfrom", "a b@example.com"},
                              {"header", "i", "@example.com"}}});
    std::string text = format_authentication_results(field);
    EXPECT_EQ(
        text,
        "Authentication-Results: \"mx \\\"quoted\\\" id\";\r\n"
        "\tdkim=pass (a \\(nested\\) comment with CRLF) reason=\"x\\\"y\\\\z\"\r\n"
        "\theader.b=\"ab/c+d=e\" smtp.mailfrom=\"a b@example.com\" header.i=@example.com\r\n");
    AuthenticationResults back = parse(text.substr(text.find(':') + 1));
    EXPECT_EQ(back.authserv_id, "mx \"quoted\" id");
    ASSERT_EQ(back.results.size(), 1u);
    EXPECT_EQ(back.results[0].comment, "a (nested) comment with CRLF");
    EXPECT_EQ(back.results[0].reason, "x\"y\\z");
    EXPECT_EQ(back.results[0].properties, field.results[0].properties);
}

TEST(AuthResultsBuilder, NoResultsIsNone) {
    EXPECT_EQ(format_authentication_results({"mx.example", "", {}}),
              "Authentication-Results: mx.example; none\r\n");
}

TEST(AuthResultsBuilder, LongReasonsStayWithinTheLineLimit) {
    AuthenticationResults field{"mx.example", "", {}};
    field.results.push_back(
        {"dmarc", "", "fail", "", std::string(5000, 'x'), {{"header", "from", "example.com"}}});
    std::string text = format_authentication_results(field);
    EXPECT_LT(text.size(), 400u);
    EXPECT_EQ(parse(text.substr(text.find(':') + 1)).results[0].reason.size(), 200u);
}

TEST(AuthResultsBuilder, HeaderBPrefixTellsSignaturesApart) {
    std::vector<DkimOutcome> sigs{{AuthResult::kPass, "a.example", "s", "0123456789abcdef", {}},
                                  {AuthResult::kPass, "a.example", "s", "0123456789abXdef", {}},
                                  {AuthResult::kPass, "a.example", "s", "short", {}}};
    auto infos = dkim_result_infos(sigs);
    EXPECT_EQ(infos[0].properties[2].value, "0123456789abc");
    EXPECT_EQ(infos[1].properties[2].value, "0123456789abX");
    EXPECT_EQ(infos[2].properties[2].value, "short");
}

TEST(AuthResultsBuilder, SpfForANullPathAndForHelo) {
    SpfEvidence null_path{AuthResult::kSoftFail,
                          "mx.example.org",
                          SpfEvidence::Identity::kMailFrom,
                          {},
                          "not listed"};
    auto a = spf_result_info(null_path);
    EXPECT_EQ(a.properties, (std::vector<AuthProperty>{{"smtp", "mailfrom", "mx.example.org"}}));
    EXPECT_EQ(a.reason, "not listed");
    SpfEvidence helo{AuthResult::kPass, "mx.example.org", SpfEvidence::Identity::kHelo, {}, {}};
    EXPECT_EQ(spf_result_info(helo).properties,
              (std::vector<AuthProperty>{{"smtp", "helo", "mx.example.org"}}));
}

TEST(AuthResultsBuilder, DmarcEntryCarriesTheAppliedPolicyAndReason) {
    DmarcResult dmarc;
    dmarc.result = AuthResult::kFail;
    dmarc.author_domain = "example.com";
    dmarc.record = parse_dmarc_record("v=DMARC1; p=reject; np=quarantine; t=y");
    dmarc.policy = DmarcPolicy::kReject;
    dmarc.testing = true;
    dmarc.reason = "no SPF or DKIM pass aligned with example.com";
    DmarcDisposition dis;
    dis.action = DmarcAction::kTag;
    dis.applied = DmarcPolicy::kQuarantine;
    ResultInfo info = dmarc_result_info(dmarc, &dis);
    EXPECT_EQ(info.comment, "p=reject np=quarantine t=y dis=tag");
    EXPECT_EQ(info.reason, "no SPF or DKIM pass aligned with example.com");
    EXPECT_EQ(info.properties, (std::vector<AuthProperty>{{"header", "from", "example.com"},
                                                          {"policy", "dmarc", "quarantine"}}));
    DmarcResult none;
    none.author_domain = "example.org";
    none.reason = "no DMARC record for example.org";
    EXPECT_EQ(
        format_authentication_results({"mx", "", {dmarc_result_info(none, nullptr)}}),
        "Authentication-Results: mx;\r\n"
        "\tdmarc=none reason=\"no DMARC record for example.org\" header.from=example.org\r\n");
}

// RFC 8601 appendix B examples.
TEST(AuthResultsParser, TheRfcExamples) {
    AuthenticationResults none = parse(" example.org 1; none");
    EXPECT_EQ(none.authserv_id, "example.org");
    EXPECT_EQ(none.version, "1");
    EXPECT_TRUE(none.results.empty());

    AuthenticationResults spf = parse(" example.com; spf=pass smtp.mailfrom=example.net");
    ASSERT_EQ(spf.results.size(), 1u);
    EXPECT_EQ(spf.results[0].properties,
              (std::vector<AuthProperty>{{"smtp", "mailfrom", "example.net"}}));

    AuthenticationResults several = parse(
        " example.com;\r\n"
        "      auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
        "      spf=pass smtp.mailfrom=example.net");
    ASSERT_EQ(several.results.size(), 2u);
    EXPECT_EQ(several.results[0].method, "auth");
    EXPECT_EQ(several.results[0].comment, "cram-md5");
    EXPECT_EQ(several.results[0].properties[0].value, "sender@example.net");

    AuthenticationResults dkim = parse(
        " mail-router.example.net;\r\n"
        "      dkim=pass (good signature) header.d=newyork.example.com\r\n"
        "            header.b=oINEO8hg;\r\n"
        "      dkim=fail (bad signature) header.d=newyork.example.com\r\n"
        "            header.b=EToRSuvU");
    ASSERT_EQ(dkim.results.size(), 2u);
    EXPECT_EQ(dkim.results[1].result, "fail");
    EXPECT_EQ(dkim.results[1].properties[1].value, "EToRSuvU");
}

// RFC 8601 appendix B.7: comments and folding wherever CFWS is allowed.
TEST(AuthResultsParser, CommentsEverywhere) {
    AuthenticationResults r = parse(
        " foo.example.net (foobar) 1 (baz);\r\n"
        "    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n"
        "      policy (A dot can go here) . (like that) expired\r\n"
        "      (this surprised me) = (as I wasn't expecting it) 1362471462");
    EXPECT_EQ(r.authserv_id, "foo.example.net");
    EXPECT_EQ(r.version, "1");
    ASSERT_EQ(r.results.size(), 1u);
    EXPECT_EQ(r.results[0].method, "dkim");
    EXPECT_EQ(r.results[0].method_version, "1");
    EXPECT_EQ(r.results[0].result, "fail");
    EXPECT_EQ(r.results[0].properties,
              (std::vector<AuthProperty>{{"policy", "expired", "1362471462"}}));
}

TEST(AuthResultsParser, ReasonsNestedCommentsAndQuotedIds) {
    AuthenticationResults r = parse(
        " \"my id\"; dmarc=fail (p=reject (outer (inner)) x) reason=\"no alignment\" "
        "header.from=example.com policy.dmarc=reject;");
    EXPECT_EQ(r.authserv_id, "my id");
    EXPECT_EQ(r.results[0].comment, "p=reject (outer (inner)) x");
    EXPECT_EQ(r.results[0].reason, "no alignment");
    EXPECT_EQ(r.results[0].properties.size(), 2u);
}

TEST(AuthResultsParser, MalformedFieldsSayWhere) {
    for (std::string_view bad :
         {"", " ;spf=pass", " id", " id spf=pass", " id; spf", " id; spf=", " id; =pass",
          " id; spf=pass smtp", " id; spf=pass smtp.mailfrom", " id; spf=pass smtp.=x",
          " id; spf=pass (unclosed", " id; spf=pass reason=\"unclosed", " id; -spf=pass",
          " id; spf=pass smtp.mailfrom=a@b ,", " id; spf/x=pass"}) {
        auto r = parse_authentication_results(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_NE(r.error().find("expected "), std::string::npos);
        }
    }
}

TEST(AuthResultsParser, TheAuthservIdAloneOfAMalformedField) {
    EXPECT_EQ(parse_authserv_id(" (c) mx.example; spf=??"), "mx.example");
    EXPECT_EQ(parse_authserv_id(" \"quoted id\" garbage"), "quoted id");
    EXPECT_FALSE(parse_authserv_id(" (unclosed mx.example"));
    EXPECT_FALSE(parse_authserv_id(" ;"));
}

TEST(AuthResultsParser, FieldsClaimingOurAuthservId) {
    std::vector<std::string> ours{"mx.tern.example"};
    EXPECT_TRUE(
        claims_authserv_id("Authentication-Results: mx.tern.example; spf=pass "
                           "smtp.mailfrom=example.com\r\n",
                           ours));
    EXPECT_TRUE(claims_authserv_id("authentication-results:MX.Tern.Example;none\r\n", ours));
    EXPECT_TRUE(
        claims_authserv_id("Authentication-Results: \"mx.tern.example\"; garbage!\r\n", ours));
    EXPECT_TRUE(claims_authserv_id(
        "Authentication-Results: (forged)\r\n mx.tern.example; dkim=pass\r\n", ours));
    EXPECT_FALSE(claims_authserv_id("Authentication-Results: mx.other.example; none\r\n", ours));
    EXPECT_FALSE(
        claims_authserv_id("Authentication-Results: mx.tern.example.evil; none\r\n", ours));
    EXPECT_FALSE(
        claims_authserv_id("ARC-Authentication-Results: i=1; mx.tern.example; none\r\n", ours));
    EXPECT_FALSE(claims_authserv_id("X-Authentication-Results: mx.tern.example; none\r\n", ours));
}

TEST(AuthResultsParser, WhatTheBuilderWritesParsesBack) {
    AuthenticationResults field{"mx.example", "1", {}};
    field.results.push_back(
        {"spf", "", "fail", "", "not permitted", {{"smtp", "mailfrom", "user@example.com"}}});
    field.results.push_back({"dkim",
                             "1",
                             "pass",
                             "2048-bit key",
                             "",
                             {{"header", "d", "example.com"}, {"header", "b", "a/b=c"}}});
    std::string text = format_authentication_results(field);
    EXPECT_EQ(parse(text.substr(text.find(':') + 1)), field);
}

}  // namespace
}  // namespace tern::mailauth
