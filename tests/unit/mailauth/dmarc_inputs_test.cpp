// The SPF and DKIM outcomes handed to DMARC: which SPF identity DMARC may align (the MAIL FROM
// domain, the HELO name standing in for a null path, never a HELO-only check) and the DKIM
// fields carried over per signature.
#include "mailauth/dmarc_inputs.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

SpfRequest request(std::string sender, SpfIdentity identity = SpfIdentity::kMailFrom) {
    SpfRequest r;
    r.client = *IpAddress::parse("192.0.2.1");
    r.helo = "mx.example.org";
    r.sender = std::move(sender);
    r.identity = identity;
    return r;
}

SpfOutcome outcome(std::string domain, SpfIdentity checked) {
    SpfOutcome o;
    o.result = AuthResult::kPass;
    o.domain = std::move(domain);
    o.identity = checked;
    o.reason = "matched";
    return o;
}

TEST(DmarcInputs, MailFromIsAligned) {
    SpfEvidence e =
        spf_evidence(request("a@example.com"), outcome("example.com", SpfIdentity::kMailFrom));
    EXPECT_EQ(e.identity, SpfEvidence::Identity::kMailFrom);
    EXPECT_EQ(e.domain, "example.com");
    EXPECT_EQ(e.mail_from, "a@example.com");
    EXPECT_EQ(e.result, AuthResult::kPass);
    EXPECT_EQ(e.reason, "matched");
}

TEST(DmarcInputs, NullPathHeloStandsInForMailFrom) {
    // SPF checked the HELO name (postmaster@HELO), but as the MAIL FROM identity.
    SpfEvidence e = spf_evidence(request(""), outcome("mx.example.org", SpfIdentity::kHelo));
    EXPECT_EQ(e.identity, SpfEvidence::Identity::kMailFrom);
    EXPECT_EQ(e.domain, "mx.example.org");
    EXPECT_EQ(e.mail_from, "");
}

TEST(DmarcInputs, HeloCheckIsNotAligned) {
    SpfEvidence e = spf_evidence(request("a@example.com", SpfIdentity::kHelo),
                                 outcome("mx.example.org", SpfIdentity::kHelo));
    EXPECT_EQ(e.identity, SpfEvidence::Identity::kHelo);
    EXPECT_EQ(e.mail_from, "");
}

TEST(DmarcInputs, DkimFieldsPerSignature) {
    std::vector<DkimResult> results(2);
    results[0] = {AuthResult::kPass, "",         "example.com", "s1",  "@example.com",
                  "rsa-sha256",      "abcdefgh", 2048,          false, 0};
    results[1] = {
        AuthResult::kFail, "body hash", "other.example", "s2", "", "", "xyz", 0, false, 0};
    auto out = dkim_outcomes(results);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].domain, "example.com");
    EXPECT_EQ(out[0].selector, "s1");
    EXPECT_EQ(out[0].signature_b, "abcdefgh");
    EXPECT_EQ(out[1].result, AuthResult::kFail);
    EXPECT_EQ(out[1].reason, "body hash");
}

}  // namespace
}  // namespace tern::mailauth
