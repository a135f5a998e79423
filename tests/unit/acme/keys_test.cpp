// The ACME client's keys: base64url, the JWK and its thumbprint (RFC 7638), the ES256 JWS of
// RFC 8555 requests (checked with OpenSSL as a verifier would), key files, and the CSR.
#include "acme/keys.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "test_files.h"

namespace tern::acme {
namespace {

std::string decode_url(std::string text) {
    for (char& c : text) {
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
    }
    while (text.size() % 4)
        text += '=';
    return base64_decode(text).value_or("<bad>");
}

TEST(Base64Url, HasNoPaddingAndTheUrlAlphabet) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
}

TEST(EcKey, JwkHasTheThumbprintMembersInOrderAndThumbprintIsItsSha256) {
    auto key = EcKey::generate();
    ASSERT_TRUE(key);
    std::string jwk = key->jwk();
    auto j = nlohmann::json::parse(jwk);
    EXPECT_EQ(j["kty"], "EC");
    EXPECT_EQ(j["crv"], "P-256");
    EXPECT_EQ(decode_url(j["x"]).size(), 32u);
    EXPECT_EQ(decode_url(j["y"]).size(), 32u);
    // RFC 7638 3.2: lexicographic order, no white space.
    EXPECT_EQ(jwk, j.dump());
    unsigned char digest[32];
    unsigned int n = 0;
    EVP_Digest(jwk.data(), jwk.size(), digest, &n, EVP_sha256(), nullptr);
    EXPECT_EQ(key->thumbprint(), base64url_encode(std::string(reinterpret_cast<char*>(digest), n)));
    EXPECT_EQ(key->thumbprint().size(), 43u);
}

TEST(EcKey, SignedRequestIsAFlattenedJwsThatVerifies) {
    auto key = EcKey::generate();
    ASSERT_TRUE(key);
    auto body = signed_request(*key, "", "nonce-1", "https://ca.test/new-acct",
                               R"({"termsOfServiceAgreed":true})");
    ASSERT_TRUE(body);
    auto jws = nlohmann::json::parse(*body);
    auto header = nlohmann::json::parse(decode_url(jws["protected"]));
    EXPECT_EQ(header["alg"], "ES256");
    EXPECT_EQ(header["nonce"], "nonce-1");
    EXPECT_EQ(header["url"], "https://ca.test/new-acct");
    EXPECT_TRUE(header.contains("jwk"));
    EXPECT_FALSE(header.contains("kid"));
    EXPECT_EQ(decode_url(jws["payload"]), R"({"termsOfServiceAgreed":true})");
    // r || s back to DER, verified with the public key.
    std::string raw = decode_url(jws["signature"]);
    ASSERT_EQ(raw.size(), 64u);
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    int der_length = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    std::string input =
        jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EXPECT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key->native()), 1);
    EXPECT_EQ(EVP_DigestVerify(ctx, der, static_cast<size_t>(der_length),
                               reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);

    auto with_kid = signed_request(*key, "https://ca.test/acct/1", "n2", "https://ca.test/x", "");
    ASSERT_TRUE(with_kid);
    auto h2 = nlohmann::json::parse(decode_url(nlohmann::json::parse(*with_kid)["protected"]));
    EXPECT_EQ(h2["kid"], "https://ca.test/acct/1");
    EXPECT_FALSE(h2.contains("jwk"));
    EXPECT_EQ(nlohmann::json::parse(*with_kid)["payload"], "");  // POST-as-GET
}

TEST(EcKey, LoadOrCreateMakesAPrivateFileOnceAndReadsItBack) {
    tern::testing::TempDir dir("tern-acme");
    std::string path = dir.path() + "/account.key";
    auto made = EcKey::load_or_create(path);
    ASSERT_TRUE(made) << made.error().message;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto again = EcKey::load_or_create(path);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->thumbprint(), made->thumbprint());
    std::string bad = dir.path() + "/bad.key";
    { std::ofstream(bad) << "not a key\n"; }
    auto refused = EcKey::load_or_create(bad);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find(bad), std::string::npos);
}

TEST(CertificateRequest, NamesEveryHostAsSubjectAltNameAndIsSigned) {
    auto key = EcKey::generate();
    ASSERT_TRUE(key);
    auto der = certificate_request(*key, {"mail.example.org", "mx.example.org"});
    ASSERT_TRUE(der);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size()));
    ASSERT_NE(req, nullptr);
    EXPECT_EQ(X509_REQ_verify(req, key->native()), 1);
    STACK_OF(X509_EXTENSION)* extensions = X509_REQ_get_extensions(req);
    std::vector<std::string> names;
    for (int i = 0; i < sk_X509_EXTENSION_num(extensions); ++i) {
        X509_EXTENSION* ext = sk_X509_EXTENSION_value(extensions, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
        auto* sans = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
        for (int j = 0; j < sk_GENERAL_NAME_num(sans); ++j) {
            auto* gn = sk_GENERAL_NAME_value(sans, j);
            ASSERT_EQ(gn->type, GEN_DNS);
            names.emplace_back(reinterpret_cast<const char*>(gn->d.dNSName->data),
                               gn->d.dNSName->length);
        }
        GENERAL_NAMES_free(sans);
    }
    sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
    X509_REQ_free(req);
    EXPECT_EQ(names, (std::vector<std::string>{"mail.example.org", "mx.example.org"}));
    EXPECT_FALSE(certificate_request(*key, {}));
}

}  // namespace
}  // namespace tern::acme
