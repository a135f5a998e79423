// DkimVerifier: the RFC 8463 example, every result and reason, the limits, and results that do
// not depend on how the body is cut into chunks.
#include "mailauth/dkim_verifier.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_fixtures.h"

namespace tern::mailauth {
namespace {

using namespace testing;

constexpr std::int64_t kNow = kRfc8463Time + 60;

std::string replace(std::string text, std::string_view from, std::string_view to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

TEST(DkimVerifier, Rfc8463BothSignaturesPass) {
    auto v = verify(kRfc8463Message, rfc8463_zone(), kNow);
    ASSERT_EQ(v.results.size(), 2u);
    const DkimResult& ed = v.results[0];
    EXPECT_EQ(ed.result, AuthResult::kPass) << ed.reason;
    EXPECT_EQ(ed.domain, "football.example.com");
    EXPECT_EQ(ed.selector, "brisbane");
    EXPECT_EQ(ed.identity, "@football.example.com");
    EXPECT_EQ(ed.algorithm, "ed25519-sha256");
    EXPECT_EQ(ed.key_bits, 256);
    EXPECT_TRUE(ed.signature_text.starts_with("/gCrinpcQOoI"));
    const DkimResult& rsa = v.results[1];
    EXPECT_EQ(rsa.result, AuthResult::kPass) << rsa.reason;
    EXPECT_EQ(rsa.selector, "test");
    EXPECT_EQ(rsa.key_bits, 1024);
    EXPECT_EQ(v.queries, (std::vector<std::string>{"brisbane._domainkey.football.example.com",
                                                   "test._domainkey.football.example.com"}));
}

TEST(DkimVerifier, ResultsDoNotDependOnChunking) {
    std::string tampered = replace(kRfc8463Message, "Joe.", "Jim.");
    for (const std::string& message : {kRfc8463Message, tampered}) {
        auto whole = verify(message, rfc8463_zone(), kNow);
        for (std::size_t chunk = 1; chunk < 80; ++chunk) {
            auto v = verify(message, rfc8463_zone(), kNow, {}, chunk);
            ASSERT_EQ(v.results.size(), whole.results.size());
            for (std::size_t i = 0; i < v.results.size(); ++i) {
                EXPECT_EQ(v.results[i].result, whole.results[i].result) << chunk;
                EXPECT_EQ(v.results[i].reason, whole.results[i].reason) << chunk;
            }
        }
    }
}

TEST(DkimVerifier, ChangedHeaderFailsTheSignature) {
    auto v = verify(replace(kRfc8463Message, "Is dinner ready?", "Is dinner burnt?"),
                    rfc8463_zone(), kNow);
    for (const DkimResult& r : v.results) {
        EXPECT_EQ(r.result, AuthResult::kFail);
        EXPECT_EQ(r.reason, "signature mismatch");
    }
}

TEST(DkimVerifier, RelaxedToleratesWhiteSpaceAndTrailingLines) {
    std::string m = replace(kRfc8463Message, "Subject: Is dinner ready?",
                            "subject:   Is\r\n\t dinner   ready?  ");
    m = replace(m, "We lost the game.  Are", "We lost  the\tgame. Are");
    m += "\r\n\r\n";
    for (const DkimResult& r : verify(m, rfc8463_zone(), kNow).results)
        EXPECT_EQ(r.result, AuthResult::kPass) << r.reason;
}

TEST(DkimVerifier, AddedFieldsOversignedOrNot) {
    // A field the signature does not name may be added...
    std::string extra = replace(kRfc8463Message, "From: Joe", "X-Mailer: x\r\nFrom: Joe");
    for (const DkimResult& r : verify(extra, rfc8463_zone(), kNow).results)
        EXPECT_EQ(r.result, AuthResult::kPass) << r.reason;
    // ...but h= names subject twice for one Subject field: a second one breaks it, even above.
    std::string added = replace(kRfc8463Message, "From: Joe", "Subject: Free money\r\nFrom: Joe");
    for (const DkimResult& r : verify(added, rfc8463_zone(), kNow).results)
        EXPECT_EQ(r.reason, "signature mismatch");
}

TEST(DkimVerifier, ChangedBodyFailsTheBodyHash) {
    auto v = verify(replace(kRfc8463Message, "hungry", "thirsty"), rfc8463_zone(), kNow);
    for (const DkimResult& r : v.results) {
        EXPECT_EQ(r.result, AuthResult::kFail);
        EXPECT_EQ(r.reason, "body hash mismatch");
    }
}

TEST(DkimVerifier, NoSignatureNoResult) {
    auto v = verify("From: a@b\r\n\r\nhi\r\n", {}, kNow);
    EXPECT_TRUE(v.results.empty());
    EXPECT_TRUE(v.queries.empty());
}

TEST(DkimVerifier, KeyLookupResults) {
    Zone zone;
    zone["brisbane._domainkey.football.example.com"] =
        status_answer(dns::Answer::Status::kTempFail);
    // test._domainkey: absent, NXDOMAIN
    auto v = verify(kRfc8463Message, zone, kNow);
    EXPECT_EQ(v.results[0].result, AuthResult::kTempError);
    EXPECT_EQ(v.results[0].reason,
              "key lookup for brisbane._domainkey.football.example.com failed: test");
    EXPECT_EQ(v.results[1].result, AuthResult::kPermError);
    EXPECT_EQ(v.results[1].reason, "no key record at test._domainkey.football.example.com");

    zone["brisbane._domainkey.football.example.com"] = txt_answer({"v=DKIM1; k=ed25519; p="});
    zone["test._domainkey.football.example.com"] = txt_answer({"v=DKIM1; k=ed25519; p=AAAA"});
    v = verify(kRfc8463Message, zone, kNow);
    EXPECT_EQ(v.results[0].result, AuthResult::kFail);
    EXPECT_EQ(v.results[0].reason, "key revoked");
    EXPECT_EQ(v.results[1].result, AuthResult::kPermError);

    zone["test._domainkey.football.example.com"] = txt_answer({kRfc8463EdRecord});
    v = verify(kRfc8463Message, zone, kNow);
    EXPECT_EQ(v.results[1].reason, "the key is k=ed25519, not for rsa-sha256");

    zone["brisbane._domainkey.football.example.com"] = txt_answer({kRfc8463EdRecord + "; t=y"});
    v = verify(kRfc8463Message, zone, kNow);
    EXPECT_EQ(v.results[0].result, AuthResult::kPass);
    EXPECT_TRUE(v.results[0].testing);
}

TEST(DkimVerifier, KeysNotLookedUpAreTempErrors) {
    DkimVerifier verifier({}, kNow);
    auto split = message::split_header(kRfc8463Message);
    for (const auto& f : split.fields)
        verifier.header(f);
    verifier.body(split.body);
    verifier.end_body();
    for (const DkimResult& r : verifier.results()) {
        EXPECT_EQ(r.result, AuthResult::kTempError);
        EXPECT_EQ(r.reason, "the key was not looked up");
    }
}

// A 768-bit RSA key: accepted by OpenSSL, refused by RFC 8301.
TEST(DkimVerifier, SmallRsaKeyFails) {
    EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{768});
    ASSERT_NE(raw, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    auto key = PrivateKey::from_pem(std::string_view(data, static_cast<std::size_t>(len)));
    BIO_free(bio);
    EVP_PKEY_free(raw);
    ASSERT_TRUE(key);
    std::string pub = key_record_text(key->public_key());
    auto shared = std::make_shared<const PrivateKey>(std::move(*key));
    std::string signed_message = sign("From: a@example.com\r\n\r\nbody\r\n",
                                      {SigningKey{"example.com", "small", shared, ""}}, kNow);
    auto v =
        verify(signed_message, Zone{{"small._domainkey.example.com", txt_answer({pub})}}, kNow);
    ASSERT_EQ(v.results.size(), 1u);
    EXPECT_EQ(v.results[0].result, AuthResult::kFail);
    EXPECT_EQ(v.results[0].reason, "key too small: 768-bit RSA, under 1024 (RFC 8301)");
    EXPECT_EQ(v.results[0].key_bits, 768);
}

TEST(DkimVerifier, Rsa1SignatureFails) {
    std::string m = replace(kRfc8463Message, "a=rsa-sha256", "a=rsa-sha1");
    auto v = verify(m, rfc8463_zone(), kNow);
    EXPECT_EQ(v.results[0].result, AuthResult::kPass);
    EXPECT_EQ(v.results[1].result, AuthResult::kFail);
    EXPECT_EQ(v.results[1].reason, "rsa-sha1 is refused (RFC 8301)");
    EXPECT_EQ(v.queries.size(), 1u);  // no key is fetched for it
}

TEST(DkimVerifier, SyntaxErrorsAreNeutral) {
    std::string m =
        replace(kRfc8463Message, "h=from : to :\r\n subject : date : message-id : from :",
                "h=to :\r\n subject : date : message-id :");
    m = replace(m, "b=F45dVWDf", "b=F45dVW!f");
    auto v = verify(m, rfc8463_zone(), kNow);
    EXPECT_EQ(v.results[0].result, AuthResult::kNeutral);
    EXPECT_EQ(v.results[0].reason, "h= does not include From");
    EXPECT_EQ(v.results[0].domain, "football.example.com");
    EXPECT_EQ(v.results[1].result, AuthResult::kNeutral);
    EXPECT_EQ(v.results[1].reason, "b= is not base64");
    EXPECT_TRUE(v.queries.empty());
}

std::shared_ptr<const PrivateKey> ed_key() {
    return shared_key(PrivateKey::from_pem(rfc8463_ed25519_pem()));
}

Zone ed_zone(std::string selector = "brisbane") {
    return Zone{{selector + "._domainkey.football.example.com", txt_answer({kRfc8463EdRecord})}};
}

const std::string kPlain =
    "From: Joe SixPack <joe@football.example.com>\r\nSubject: hi\r\n\r\nHi.\r\n";

TEST(DkimVerifier, ExpiryAndFutureTimestamps) {
    DkimSignOptions options;
    options.expire_after = 3600;
    std::string m =
        sign(kPlain, {SigningKey{"football.example.com", "brisbane", ed_key(), ""}}, kNow, options);
    auto at = [&](std::int64_t now) { return verify(m, ed_zone(), now).results.at(0); };
    EXPECT_EQ(at(kNow + 3600).result, AuthResult::kPass);
    EXPECT_EQ(at(kNow + 3600 + 300).result, AuthResult::kPass);  // the default skew
    EXPECT_EQ(at(kNow + 3600 + 301).result, AuthResult::kFail);
    EXPECT_EQ(at(kNow + 3600 + 301).reason,
              "signature expired (x=" + std::to_string(kNow + 3600) + ")");
    EXPECT_EQ(at(kNow - 300).result, AuthResult::kPass);
    EXPECT_EQ(at(kNow - 301).reason,
              "signature made in the future (t=" + std::to_string(kNow) + ")");
    DkimVerifyOptions strict;
    strict.clock_skew = 0;
    EXPECT_EQ(verify(m, ed_zone(), kNow + 3601, strict).results[0].result, AuthResult::kFail);
    EXPECT_TRUE(verify(m, ed_zone(), kNow + 3601, strict).queries.empty());
}

TEST(DkimVerifier, BodyLengthLimit) {
    DkimSignOptions options;
    options.body_length = true;
    std::string m =
        sign(kPlain, {SigningKey{"football.example.com", "brisbane", ed_key(), ""}}, kNow, options);
    EXPECT_NE(m.find("l=5;"), std::string::npos);
    EXPECT_EQ(verify(m, ed_zone(), kNow).results[0].result, AuthResult::kPass);

    std::string appended = m + "Unsigned advertising.\r\n";
    auto r = verify(appended, ed_zone(), kNow).results[0];
    EXPECT_EQ(r.result, AuthResult::kPolicy);
    EXPECT_EQ(r.reason, "l= leaves 23 body octets unsigned");
    EXPECT_EQ(r.unsigned_octets, 23u);
    DkimVerifyOptions accept;
    accept.accept_body_length = true;
    r = verify(appended, ed_zone(), kNow, accept).results[0];
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.reason, "l= leaves 23 body octets unsigned");

    // An appended body that breaks the signed part still fails.
    r = verify(replace(appended, "Hi.", "Ho."), ed_zone(), kNow).results[0];
    EXPECT_EQ(r.reason, "body hash mismatch");

    std::string shorter = replace(m, "\r\n\r\nHi.\r\n", "\r\n\r\nHi");  // canonical "Hi\r\n"
    r = verify(shorter, ed_zone(), kNow).results[0];
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_EQ(r.reason, "l=5 is longer than the body (4 canonical octets)");
}

TEST(DkimVerifier, AbsurdBodyLength) {
    std::string m = replace(kRfc8463Message, "t=1528637909; h=from : to :",
                            "t=1528637909; l=" + std::string(76, '9') + "; h=from : to :");
    auto r = verify(m, rfc8463_zone(), kNow).results[0];
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_EQ(r.reason, "l=18446744073709551615 is longer than the body (54 canonical octets)");
}

TEST(DkimVerifier, SignatureCapAndSharedKeys) {
    auto split = message::split_header(kRfc8463Message);
    std::string ed_field = split.fields[0];
    std::string m;
    for (int i = 0; i < 12; ++i)
        m += ed_field;
    m += kRfc8463Message.substr(ed_field.size());
    auto v = verify(m, rfc8463_zone(), kNow);
    ASSERT_EQ(v.results.size(), 13u);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(v.results[i].result, AuthResult::kPass) << i;
    for (int i = 10; i < 13; ++i) {
        EXPECT_EQ(v.results[i].result, AuthResult::kNeutral);
        EXPECT_EQ(v.results[i].reason, "not checked: over the limit of 10 signatures per message");
    }
    EXPECT_EQ(v.queries.size(), 1u);  // one key, asked once
    DkimVerifyOptions one;
    one.max_signatures = 1;
    v = verify(m, rfc8463_zone(), kNow, one);
    EXPECT_EQ(v.results[0].result, AuthResult::kPass);
    EXPECT_EQ(v.results[1].result, AuthResult::kNeutral);
}

TEST(DkimVerifier, HeaderSizeLimit) {
    DkimVerifyOptions small;
    small.max_header_bytes = 1000;
    auto v = verify(kRfc8463Message, rfc8463_zone(), kNow, small);
    ASSERT_EQ(v.results.size(), 2u);
    EXPECT_EQ(v.results[0].result, AuthResult::kNeutral);
    EXPECT_EQ(v.results[0].reason, "not checked: the header is over 1000 octets");
    EXPECT_TRUE(v.queries.empty());
}

TEST(DkimVerifier, ThousandSignaturesBoundedWork) {
    auto split = message::split_header(kRfc8463Message);
    std::string m;
    for (int i = 0; i < 1000; ++i)
        m += replace(split.fields[0], "s=brisbane", "s=sel" + std::to_string(i));
    m += kRfc8463Message.substr(split.fields[0].size());
    auto v = verify(m, rfc8463_zone(), kNow);
    ASSERT_EQ(v.results.size(), 1001u);
    EXPECT_EQ(v.queries.size(), 10u);
    EXPECT_EQ(v.results[0].result, AuthResult::kPermError);  // sel0 has no key
    EXPECT_EQ(v.results[999].result, AuthResult::kNeutral);
    EXPECT_EQ(v.results[1000].result, AuthResult::kNeutral);  // the RSA one: not checked
}

}  // namespace
}  // namespace tern::mailauth
