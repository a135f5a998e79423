// Key records (RFC 6376 section 3.6.1), the keys they carry, and their checks against a
// signature (RFC 8301, RFC 8463).
#include "mailauth/key_record.h"

#include <gtest/gtest.h>

#include "dkim_fixtures.h"
#include "mailauth/key_lookup.h"

namespace tern::mailauth {
namespace {

using namespace testing;

TEST(KeyRecord, Rfc8463Records) {
    auto ed = parse_key_record(kRfc8463EdRecord);
    ASSERT_TRUE(ed) << ed.error();
    EXPECT_EQ(ed->type, KeyType::kEd25519);
    EXPECT_EQ(ed->key.size(), 32u);
    auto rsa = parse_key_record(kRfc8463RsaRecord);
    ASSERT_TRUE(rsa) << rsa.error();
    EXPECT_EQ(rsa->type, KeyType::kRsa);
    auto key = PublicKey::from_record(KeyType::kRsa, rsa->key);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->bits(), 1024);
}

TEST(KeyRecord, DefaultsAndFlags) {
    auto r = parse_key_record("p=AAAA; t=y:s:z; h=sha1:sha256; s=email; n=note; x=unknown");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->type, KeyType::kRsa);
    EXPECT_TRUE(r->testing);
    EXPECT_TRUE(r->strict_identity);
    EXPECT_TRUE(r->allows_sha256());
    EXPECT_TRUE(r->allows_email());
    auto other = parse_key_record("v=DKIM1; p=AAAA; h=sha1; s=tlsrpt");
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->allows_sha256());
    EXPECT_FALSE(other->allows_email());
    EXPECT_TRUE(parse_key_record("v=DKIM1; s=*; p=AAAA")->allows_email());
}

TEST(KeyRecord, RevokedKey) {
    auto r = parse_key_record("v=DKIM1; p=");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->revoked());
}

TEST(KeyRecord, Errors) {
    EXPECT_EQ(parse_key_record("v=DKIM2; p=AAAA").error(), "v= is not DKIM1");
    EXPECT_EQ(parse_key_record("p=AAAA; v=DKIM1").error(), "v= is not the first tag");
    EXPECT_EQ(parse_key_record("v=DKIM1; k=dsa; p=AAAA").error(), "k=dsa is not known");
    EXPECT_EQ(parse_key_record("v=DKIM1; k=rsa").error(), "no p= tag");
    EXPECT_EQ(parse_key_record("v=DKIM1; p=A*AA").error(), "p= is not base64");
    EXPECT_FALSE(parse_key_record("v=DKIM1; p=AAAA; p=BBBB"));
}

TEST(KeyRecord, FoldedBase64) {
    auto r =
        parse_key_record("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMl rwIaaPcHURo=");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->key.size(), 32u);
}

TEST(KeyRecord, TextRoundTripsAndSplitsInto255OctetStrings) {
    auto key = PrivateKey::generate(KeyType::kRsa, 2048);
    ASSERT_TRUE(key);
    std::string text = key_record_text(key->public_key());
    EXPECT_TRUE(text.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));
    auto parsed = parse_key_record(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*PublicKey::from_record(KeyType::kRsa, parsed->key), key->public_key());
    auto strings = txt_strings(text);
    ASSERT_EQ(strings.size(), 2u);
    EXPECT_EQ(strings[0].size(), 255u);
    EXPECT_EQ(strings[0] + strings[1], text);
    EXPECT_EQ(txt_strings("").size(), 1u);
    EXPECT_EQ(
        key_record_text(PrivateKey::generate(KeyType::kEd25519)->public_key(), true).substr(0, 27),
        "v=DKIM1; k=ed25519; t=y; p=");
}

TEST(KeyRecord, PublicKeyForms) {
    auto rsa = parse_key_record(kRfc8463RsaRecord);
    // The bare PKCS#1 RSAPublicKey inside the SubjectPublicKeyInfo is accepted too.
    std::string spki = rsa->key;
    std::string pkcs1 = spki.substr(spki.size() - 140);
    EXPECT_EQ(static_cast<unsigned char>(pkcs1[0]), 0x30);
    auto a = PublicKey::from_record(KeyType::kRsa, spki);
    auto b = PublicKey::from_record(KeyType::kRsa, pkcs1);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    EXPECT_FALSE(PublicKey::from_record(KeyType::kRsa, spki + "x"));
    EXPECT_FALSE(PublicKey::from_record(KeyType::kRsa, "garbage"));
    EXPECT_FALSE(PublicKey::from_record(KeyType::kEd25519, std::string(31, 'a')));
    // An Ed25519 key in SubjectPublicKeyInfo form is not an RSA key.
    EXPECT_FALSE(PublicKey::from_record(
        KeyType::kRsa,
        *base64_decode("MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")));
}

TEST(KeyLookup, Answers) {
    auto fetched = key_from_answer(txt_answer({"v=spf1 -all", kRfc8463EdRecord}), "n");
    EXPECT_FALSE(fetched.problem);
    ASSERT_TRUE(fetched.key);
    EXPECT_EQ(fetched.key->type(), KeyType::kEd25519);

    auto temp = key_from_answer(status_answer(dns::Answer::Status::kTempFail), "n");
    EXPECT_EQ(temp.problem->result, AuthResult::kTempError);
    auto none = key_from_answer(status_answer(dns::Answer::Status::kNxDomain), "a._domainkey.b");
    EXPECT_EQ(none.problem->result, AuthResult::kPermError);
    EXPECT_EQ(none.problem->reason, "no key record at a._domainkey.b");
    auto bad = key_from_answer(txt_answer({"v=DKIM1; p=%%%"}), "n");
    EXPECT_EQ(bad.problem->reason, "bad key record at n: p= is not base64");
    auto notkey = key_from_answer(txt_answer({"v=DKIM1; k=ed25519; p=AAAA"}), "n");
    EXPECT_EQ(notkey.problem->result, AuthResult::kPermError);
}

TEST(KeyLookup, ChecksAgainstTheSignature) {
    KeyLimits limits;
    auto ed = key_from_answer(txt_answer({kRfc8463EdRecord}), "n");
    EXPECT_FALSE(check_key(ed, Algorithm::kEd25519Sha256, "d.example", "@d.example", limits));
    EXPECT_EQ(check_key(ed, Algorithm::kRsaSha256, "d.example", "", limits)->result,
              AuthResult::kPermError);

    auto revoked = key_from_answer(txt_answer({"v=DKIM1; p="}), "n");
    EXPECT_EQ(check_key(revoked, Algorithm::kRsaSha256, "d", "", limits)->reason, "key revoked");

    auto sha1 = key_from_answer(txt_answer({kRfc8463EdRecord + "; h=sha1"}), "n");
    EXPECT_EQ(check_key(sha1, Algorithm::kEd25519Sha256, "d", "", limits)->result,
              AuthResult::kPermError);
    auto service = key_from_answer(txt_answer({kRfc8463EdRecord + "; s=other"}), "n");
    EXPECT_TRUE(check_key(service, Algorithm::kEd25519Sha256, "d", "", limits));

    auto strict = key_from_answer(txt_answer({kRfc8463EdRecord + "; t=s"}), "n");
    EXPECT_FALSE(check_key(strict, Algorithm::kEd25519Sha256, "d.example", "u@D.example", limits));
    EXPECT_EQ(check_key(strict, Algorithm::kEd25519Sha256, "d.example", "u@sub.d.example", limits)
                  ->reason,
              "the key's t=s wants i= in d= itself");

    auto rsa1024 = key_from_answer(txt_answer({kRfc8463RsaRecord}), "n");
    EXPECT_FALSE(check_key(rsa1024, Algorithm::kRsaSha256, "d", "", limits));
    limits.min_rsa_bits = 2048;
    EXPECT_EQ(check_key(rsa1024, Algorithm::kRsaSha256, "d", "", limits)->reason,
              "key too small: 1024-bit RSA, under 2048 (RFC 8301)");
    limits = KeyLimits{512, 1000};
    EXPECT_EQ(check_key(rsa1024, Algorithm::kRsaSha256, "d", "", limits)->result,
              AuthResult::kFail);
}

}  // namespace
}  // namespace tern::mailauth
