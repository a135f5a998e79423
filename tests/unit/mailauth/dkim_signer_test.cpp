// Signing: the RFC 8463 signatures reproduced octet for octet from the RFC's keys, and what
// DkimSigner writes (tags, oversigning, folding, dual signing) verified by DkimVerifier.
#include "mailauth/dkim_signer.h"

#include <gtest/gtest.h>

#include "dkim_fixtures.h"
#include "mailauth/dkim_signature.h"
#include "mailauth/header_hash.h"
#include "mailauth/tag_list.h"

namespace tern::mailauth {
namespace {

using namespace testing;

constexpr std::int64_t kNow = 1700000000;

// The signature `index` of the RFC 8463 message, made again with `pem` from its own tags.
std::string resign_rfc8463(std::size_t index, const std::string& pem) {
    auto split = message::split_header(kRfc8463Message);
    std::string_view field = split.fields[index];
    auto parsed = parse_dkim_signature(field.substr(field.find(':') + 1));
    EXPECT_FALSE(parsed.problem);
    std::string digest =
        header_digest(split.fields, parsed.signature.signed_fields, parsed.signature.header_canon,
                      without_signature_value(field), index);
    auto key = PrivateKey::from_pem(pem);
    EXPECT_TRUE(key) << key.error().message;
    return base64_encode(*key->sign(digest));
}

// Ed25519 is deterministic, and so is RSASSA-PKCS1-v1_5: the RFC's b= values come out exactly.
TEST(DkimSigner, Rfc8463SignaturesReproduced) {
    EXPECT_EQ(
        resign_rfc8463(0, rfc8463_ed25519_pem()),
        "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
    EXPECT_EQ(
        resign_rfc8463(1, kRfc8463RsaPem),
        "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rp"
        "o1tFOeS9mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=");
    auto ed = PrivateKey::from_pem(rfc8463_ed25519_pem());
    EXPECT_EQ(key_record_text(ed->public_key()), kRfc8463EdRecord);
    auto rsa = PrivateKey::from_pem(kRfc8463RsaPem);
    EXPECT_EQ(key_record_text(rsa->public_key()), kRfc8463RsaRecord);
}

const std::string kMessage =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner\r\n ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "Received: from a by b\r\n"
    "\r\n"
    "Hi.  \r\n\r\nWe lost the game.\r\n\r\n\r\n";

struct Keys {
    std::shared_ptr<const PrivateKey> rsa = shared_key(PrivateKey::generate(KeyType::kRsa, 2048));
    std::shared_ptr<const PrivateKey> ed = shared_key(PrivateKey::generate(KeyType::kEd25519));

    Zone zone() const {
        return Zone{
            {"r._domainkey.football.example.com", txt_answer({key_record_text(rsa->public_key())})},
            {"e._domainkey.football.example.com", txt_answer({key_record_text(ed->public_key())})}};
    }
    std::vector<SigningKey> both() const {
        return {SigningKey{"football.example.com", "r", rsa, ""},
                SigningKey{"football.example.com", "e", ed, ""}};
    }
};

const Keys& keys() {
    static const Keys k;
    return k;
}

TEST(DkimSigner, EveryCanonicalisationVerifies) {
    for (Canon header : {Canon::kSimple, Canon::kRelaxed}) {
        for (Canon body : {Canon::kSimple, Canon::kRelaxed}) {
            DkimSignOptions options;
            options.header_canon = header;
            options.body_canon = body;
            std::string m = sign(kMessage, keys().both(), kNow, options);
            auto v = verify(m, keys().zone(), kNow);
            ASSERT_EQ(v.results.size(), 2u);
            for (const DkimResult& r : v.results)
                EXPECT_EQ(r.result, AuthResult::kPass)
                    << canon_name(header) << "/" << canon_name(body) << " " << r.reason;
        }
    }
}

TEST(DkimSigner, WritesTheTagsAndFoldsAt78Columns) {
    DkimSignOptions options;
    options.expire_after = 86400;
    std::vector<SigningKey> k = keys().both();
    k[0].identity = "joe@football.example.com";
    std::string m = sign(kMessage, k, kNow, options);
    auto split = message::split_header(m);
    ASSERT_EQ(split.fields.size(), 8u);
    for (std::size_t i = 0; i < 2; ++i) {
        std::string_view field = split.fields[i];
        EXPECT_TRUE(field.starts_with("DKIM-Signature: v=1; a=")) << field;
        std::size_t pos = 0;
        while (pos < field.size()) {
            std::size_t end = field.find("\r\n", pos);
            EXPECT_LE(end - pos, 78u) << field;
            pos = end + 2;
        }
        auto parsed = parse_dkim_signature(field.substr(field.find(':') + 1));
        ASSERT_FALSE(parsed.problem) << parsed.problem->reason;
        const DkimSignature& s = parsed.signature;
        EXPECT_EQ(s.header_canon, Canon::kRelaxed);
        EXPECT_EQ(s.body_canon, Canon::kRelaxed);
        EXPECT_EQ(s.timestamp, kNow);
        EXPECT_EQ(s.expiration, kNow + 86400);
        EXPECT_FALSE(s.body_length);
        // Oversigned: one more listing than instances; Received is not signed by default.
        EXPECT_EQ(s.signed_fields,
                  (std::vector<std::string>{"From", "From", "Reply-To", "To", "To", "Cc", "Subject",
                                            "Subject", "Date", "Date", "Message-ID", "Message-ID",
                                            "In-Reply-To", "References", "MIME-Version",
                                            "Content-Type", "Content-Transfer-Encoding"}));
    }
    EXPECT_NE(split.fields[0].find("a=rsa-sha256;"), std::string::npos);
    EXPECT_NE(split.fields[0].find("i=joe@football.example.com;"), std::string::npos);
    EXPECT_NE(split.fields[1].find("a=ed25519-sha256;"), std::string::npos);
    EXPECT_EQ(split.fields[1].find("i="), std::string::npos);
    for (const DkimResult& r : verify(m, keys().zone(), kNow).results)
        EXPECT_EQ(r.result, AuthResult::kPass) << r.reason;
}

TEST(DkimSigner, OversigningStopsAddedFields) {
    std::string m = sign(kMessage, keys().both(), kNow);
    for (std::string_view added : {"From: Mallory <m@evil.example>\r\n", "Cc: x@evil.example\r\n",
                                   "Reply-To: m@evil.example\r\n"}) {
        std::string tampered = m;
        tampered.insert(tampered.find("From: Joe"), added);
        for (const DkimResult& r : verify(tampered, keys().zone(), kNow).results)
            EXPECT_EQ(r.reason, "signature mismatch") << added;
    }
    std::string unsigned_field = m;
    unsigned_field.insert(unsigned_field.find("From: Joe"), "X-Spam-Score: 0\r\n");
    for (const DkimResult& r : verify(unsigned_field, keys().zone(), kNow).results)
        EXPECT_EQ(r.result, AuthResult::kPass);
}

TEST(DkimSigner, SignaturesDoNotDependOnChunking) {
    auto split = message::split_header(kMessage);
    std::vector<std::string> expected;
    for (std::size_t chunk = 1; chunk <= split.body.size(); ++chunk) {
        DkimSigner signer({}, keys().both(), kNow);
        for (const auto& f : split.fields)
            signer.header(f);
        for (std::size_t i = 0; i < split.body.size(); i += chunk)
            signer.body(split.body.substr(i, chunk));
        auto fields = signer.signatures();
        ASSERT_TRUE(fields);
        if (expected.empty()) expected = *fields;
        EXPECT_EQ(*fields, expected) << chunk;
    }
}

TEST(DkimSigner, DualSignaturesShareTheBodyHash) {
    std::string m = sign(kMessage, keys().both(), kNow);
    auto split = message::split_header(m);
    auto bh = [&](std::size_t i) {
        return parse_dkim_signature(split.fields[i].substr(16)).signature.body_hash;
    };
    EXPECT_EQ(bh(0), bh(1));
}

TEST(DkimSigner, SignatureOverAnEarlierSignature) {
    DkimSignOptions first;
    std::string once = sign(kMessage, {keys().both()[1]}, kNow, first);
    DkimSignOptions second;
    second.signed_fields.push_back("DKIM-Signature");
    std::string twice = sign(once, {keys().both()[0]}, kNow, second);
    auto v = verify(twice, keys().zone(), kNow);
    ASSERT_EQ(v.results.size(), 2u);
    for (const DkimResult& r : v.results)
        EXPECT_EQ(r.result, AuthResult::kPass) << r.reason;
}

TEST(DkimSigner, BodyLengthAndEmptyBody) {
    DkimSignOptions options;
    options.body_length = true;
    options.body_canon = Canon::kSimple;
    std::string m = sign("From: a@football.example.com\r\n\r\n", keys().both(), kNow, options);
    EXPECT_NE(m.find("l=2;"), std::string::npos);  // the simple empty body is one CRLF
    for (const DkimResult& r : verify(m, keys().zone(), kNow).results)
        EXPECT_EQ(r.result, AuthResult::kPass) << r.reason;
}

TEST(DkimSigner, NeedsAFromField) {
    DkimSigner signer({}, keys().both(), kNow);
    signer.header("Subject: x\r\n");
    signer.end_headers();
    signer.end_body();
    auto fields = signer.signatures();
    ASSERT_FALSE(fields);
    EXPECT_EQ(fields.error().message, "the message has no From field to sign");
}

TEST(DkimSigner, FieldFolder) {
    FieldFolder f("X:");
    f.word("a=1;");
    f.word(std::string(80, 'b'));
    f.word("c");
    f.word("d", false);
    f.spread(std::string(100, 'e'));
    EXPECT_EQ(f.text(), "X: a=1;\r\n " + std::string(80, 'b') + "\r\n cd" + std::string(75, 'e') +
                            "\r\n " + std::string(25, 'e') + "\r\n");
}

// The pipeline's signing stage hashes the body as it streams and gives the header fields at the
// end (after earlier stages' edits): the signatures are the same as in the usual order.
TEST(DkimSigner, BodyBeforeHeadersSignsTheSame) {
    std::string usual = sign(kMessage, keys().both(), kNow);
    DkimSigner signer({}, keys().both(), kNow);
    auto split = message::split_header(kMessage);
    signer.body(split.body.substr(0, 5));
    signer.body(split.body.substr(5));
    signer.end_body();
    for (const std::string& f : split.fields)
        signer.header(f);
    auto fields = signer.signatures();
    ASSERT_TRUE(fields.has_value()) << fields.error().message;
    std::string late;
    for (const std::string& f : *fields)
        late += f;
    EXPECT_EQ(late + kMessage, usual);
}

}  // namespace
}  // namespace tern::mailauth
