// Unit tests of the outbound TLS client (ClientContext): level names, which TLSA records are
// usable for SMTP (RFC 7672 3.1), the summary shown in logs, and prepare()/inspect() over real
// in-memory handshakes with certificates made here: PKIX with names, DANE-EE and DANE-TA.
#include "tls/client_context.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace tern::tls {
namespace {

// --- certificates made for the tests ------------------------------------------------------------

struct Deleter {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
    void operator()(SSL* p) const { SSL_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Deleter>;

struct KeyAndCert {
    Owned<EVP_PKEY> key;
    Owned<X509> cert;
};

// A P-256 certificate for `names` (subjectAltName), signed by `issuer` or by itself.
KeyAndCert make_cert(const std::string& cn, const std::vector<std::string>& names, bool ca,
                     const KeyAndCert* issuer) {
    static long serial = 1;
    KeyAndCert out{Owned<EVP_PKEY>(EVP_EC_gen("P-256")), Owned<X509>(X509_new())};
    X509* x = out.cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, out.key.get());
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer->cert.get() : x));
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
    auto add = [&](int nid, std::string value) {
        X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
    std::string san;
    for (const auto& n : names)
        san += (san.empty() ? "DNS:" : ",DNS:") + n;
    if (!san.empty()) add(NID_subject_alt_name, san);
    X509_sign(x, issuer ? issuer->key.get() : out.key.get(), EVP_sha256());
    return out;
}

std::string sha256(const unsigned char* data, int size) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, static_cast<std::size_t>(size), md, &n, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(md), n);
}

std::string spki_sha256(X509* cert) {
    unsigned char* der = nullptr;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    std::string out = sha256(der, n);
    OPENSSL_free(der);
    return out;
}

std::string cert_sha256(X509* cert) {
    unsigned char* der = nullptr;
    int n = i2d_X509(cert, &der);
    std::string out = sha256(der, n);
    OPENSSL_free(der);
    return out;
}

// --- level_name / parse_level -------------------------------------------------------------------

TEST(Level, NamesRoundTripForConfigurableLevels) {
    for (auto l : {Level::kNone, Level::kMay, Level::kEncrypt, Level::kVerify})
        EXPECT_EQ(parse_level(level_name(l)), l) << level_name(l);
    EXPECT_EQ(level_name(Level::kDane), "dane");
}

TEST(Level, DaneAndUnknownNamesAreNotConfigurable) {
    for (const char* bad : {"dane", "MAY", "Verify", "", "secure", "may "})
        EXPECT_FALSE(parse_level(bad)) << bad;
}

TEST(Level, OrderedWeakestFirst) {
    EXPECT_LT(Level::kNone, Level::kMay);
    EXPECT_LT(Level::kMay, Level::kEncrypt);
    EXPECT_LT(Level::kEncrypt, Level::kVerify);
    EXPECT_LT(Level::kVerify, Level::kDane);
}

// --- usable_tlsa --------------------------------------------------------------------------------

dns::TlsaRecord tlsa(int usage, int selector, int matching, std::size_t size) {
    return dns::TlsaRecord{static_cast<std::uint8_t>(usage), static_cast<std::uint8_t>(selector),
                           static_cast<std::uint8_t>(matching), std::string(size, '\x5a')};
}

std::string der_cert(X509* cert) {
    unsigned char* der = nullptr;
    int n = i2d_X509(cert, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
}

std::string der_spki(X509* cert) {
    unsigned char* der = nullptr;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
}

dns::TlsaRecord full(int usage, int selector, std::string data) {
    return dns::TlsaRecord{static_cast<std::uint8_t>(usage), static_cast<std::uint8_t>(selector), 0,
                           std::move(data)};
}

TEST(UsableTlsa, DaneTaAndDaneEeWithKnownParametersAreKept) {
    auto c = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    std::vector<dns::TlsaRecord> in = {tlsa(3, 1, 1, 32),
                                       tlsa(3, 0, 1, 32),
                                       tlsa(2, 0, 1, 32),
                                       tlsa(2, 1, 2, 64),
                                       full(3, 1, der_spki(c.cert.get())),
                                       full(2, 0, der_cert(c.cert.get()))};
    EXPECT_EQ(usable_tlsa(in).size(), in.size());
}

TEST(UsableTlsa, FullDataMustBeExactlyOneCertificateOrPublicKey) {
    // RFC 7672 2.2: records that cannot be used (OpenSSL refuses them) are unusable, so that
    // a server with only such records still gets its mail encrypted instead of never.
    auto c = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    auto out =
        usable_tlsa({full(3, 1, std::string(32, '\0')), full(3, 1, der_cert(c.cert.get())),
                     full(3, 0, der_spki(c.cert.get())), full(3, 1, der_spki(c.cert.get()) + "x"),
                     full(2, 0, der_cert(c.cert.get()).substr(1))});
    EXPECT_TRUE(out.empty()) << out.size() << " kept";
}

TEST(UsableTlsa, PkixUsagesAndUnknownParametersAreDropped) {
    auto out = usable_tlsa({tlsa(0, 0, 1, 32), tlsa(1, 1, 1, 32), tlsa(4, 1, 1, 32),
                            tlsa(3, 2, 1, 32), tlsa(3, 1, 3, 32), tlsa(255, 1, 1, 32)});
    EXPECT_TRUE(out.empty());
}

TEST(UsableTlsa, DigestsOfTheWrongLengthAndEmptyDataAreDropped) {
    auto out = usable_tlsa({tlsa(3, 1, 1, 31), tlsa(3, 1, 1, 33), tlsa(3, 1, 2, 32),
                            tlsa(3, 1, 1, 64), tlsa(3, 1, 0, 0), tlsa(2, 0, 2, 63)});
    EXPECT_TRUE(out.empty());
}

TEST(UsableTlsa, KeepsOrderAndContent) {
    auto a = tlsa(3, 1, 1, 32);
    a.data[0] = 'a';
    auto b = tlsa(2, 0, 1, 32);
    b.data[0] = 'b';
    auto out = usable_tlsa({tlsa(1, 1, 1, 32), a, tlsa(3, 1, 1, 5), b});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].data, a.data);
    EXPECT_EQ(out[1].data, b.data);
}

// --- Session::summary ---------------------------------------------------------------------------

TEST(SessionSummary, EachOutcome) {
    Session s;
    PeerRequirement may;
    EXPECT_EQ(s.summary(may), "no TLS");
    s.protocol = "TLSv1.3";
    s.cipher = "TLS_AES_256_GCM_SHA384";
    s.verify_error = "self-signed certificate";
    EXPECT_EQ(s.summary(may), "TLSv1.3 TLS_AES_256_GCM_SHA384 (not verified)");
    PeerRequirement sts{Level::kMay, "mx.example.org", {"mx.example.org"}, {}, "mta-sts"};
    EXPECT_EQ(s.summary(sts),
              "TLSv1.3 TLS_AES_256_GCM_SHA384 (NOT verified: self-signed certificate)");
    PeerRequirement verify{Level::kVerify, "mx.example.org", {"mx.example.org"}, {}, "policy"};
    EXPECT_EQ(s.summary(verify),
              "TLSv1.3 TLS_AES_256_GCM_SHA384 (NOT verified: self-signed certificate)");
    s.verified = true;
    s.verify_error.clear();
    EXPECT_EQ(s.summary(verify), "TLSv1.3 TLS_AES_256_GCM_SHA384 (verified, policy)");
    PeerRequirement dane{
        Level::kDane, "mx.example.org", {"mx.example.org"}, {tlsa(3, 1, 1, 32)}, "dane"};
    EXPECT_EQ(s.summary(dane), "TLSv1.3 TLS_AES_256_GCM_SHA384 (verified, dane)");
}

// --- ClientContext over in-memory handshakes ----------------------------------------------------

class ClientContextTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ca_ = make_cert("Unit Test CA", {}, true, nullptr);
        ca_file_ = std::filesystem::temp_directory_path() /
                   ("tern-unit-tls-ca-" + std::to_string(::getpid()) + ".pem");
        FILE* f = std::fopen(ca_file_.c_str(), "w");
        ASSERT_NE(f, nullptr);
        PEM_write_X509(f, ca_.cert.get());
        std::fclose(f);
        auto ctx = ClientContext::create(ClientOptions{ca_file_.string(), ""});
        ASSERT_TRUE(ctx) << ctx.error().message;
        client_ = std::move(*ctx);
    }
    void TearDown() override { std::filesystem::remove(ca_file_); }

    // Serves `leaf` (with `chain` behind it) to a client prepared with `need`; the session.
    Session handshake(const KeyAndCert& leaf, const PeerRequirement& need,
                      const KeyAndCert* chain = nullptr) {
        Owned<SSL_CTX> server_ctx(SSL_CTX_new(TLS_server_method()));
        SSL_CTX_use_certificate(server_ctx.get(), leaf.cert.get());
        SSL_CTX_use_PrivateKey(server_ctx.get(), leaf.key.get());
        if (chain) SSL_CTX_add1_chain_cert(server_ctx.get(), chain->cert.get());
        Owned<SSL> server(SSL_new(server_ctx.get()));
        Owned<SSL> client(SSL_new(client_->context().native_handle()));
        auto prepared = client_->prepare(client.get(), need);
        EXPECT_TRUE(prepared) << prepared.error().message;
        BIO *a = nullptr, *b = nullptr;
        BIO_new_bio_pair(&a, 0, &b, 0);
        SSL_set_bio(client.get(), a, a);
        SSL_set_bio(server.get(), b, b);
        SSL_set_connect_state(client.get());
        SSL_set_accept_state(server.get());
        bool client_done = false, server_done = false;
        for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
            if (!client_done) client_done = SSL_do_handshake(client.get()) == 1;
            if (!server_done) server_done = SSL_do_handshake(server.get()) == 1;
        }
        EXPECT_TRUE(client_done && server_done) << "the handshake did not finish";
        return client_->inspect(client.get(), need);
    }

    static PeerRequirement verify(std::string host) {
        return PeerRequirement{Level::kVerify, host, {host}, {}, "policy"};
    }
    static PeerRequirement dane(std::vector<std::string> names, std::vector<dns::TlsaRecord> r) {
        return PeerRequirement{Level::kDane, names.front(), names, std::move(r), "dane"};
    }
    static dns::TlsaRecord record(int usage, int selector, std::string digest) {
        return dns::TlsaRecord{static_cast<std::uint8_t>(usage),
                               static_cast<std::uint8_t>(selector), 1, std::move(digest)};
    }

    KeyAndCert ca_;
    std::filesystem::path ca_file_;
    std::unique_ptr<ClientContext> client_;
};

TEST_F(ClientContextTest, AMissingCaFileIsAnError) {
    auto ctx = ClientContext::create(ClientOptions{"/nonexistent/ca.pem", ""});
    ASSERT_FALSE(ctx);
    EXPECT_NE(ctx.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST_F(ClientContextTest, VerifyAcceptsACaCertificateForTheHostName) {
    auto leaf = make_cert("mx.example.org", {"mx.example.org"}, false, &ca_);
    auto s = handshake(leaf, verify("mx.example.org"));
    EXPECT_TRUE(s.verified) << s.verify_error;
    EXPECT_FALSE(s.protocol.empty());
    EXPECT_FALSE(s.cipher.empty());
    EXPECT_NE(s.peer_subject.find("CN=mx.example.org"), std::string::npos) << s.peer_subject;
}

TEST_F(ClientContextTest, VerifyRefusesAnotherNameAPartialWildcardAndASelfSignedCertificate) {
    auto other = make_cert("mx.example.org", {"mx.example.org"}, false, &ca_);
    auto s = handshake(other, verify("mail.example.org"));
    EXPECT_FALSE(s.verified);
    EXPECT_EQ(s.verify_error, "hostname mismatch");
    auto partial = make_cert("partial", {"m*.example.org"}, false, &ca_);
    EXPECT_FALSE(handshake(partial, verify("mx.example.org")).verified);
    auto wildcard = make_cert("wildcard", {"*.example.org"}, false, &ca_);
    EXPECT_TRUE(handshake(wildcard, verify("mx.example.org")).verified);
    auto self = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    s = handshake(self, verify("mx.example.org"));
    EXPECT_FALSE(s.verified);
    EXPECT_NE(s.verify_error.find("self"), std::string::npos) << s.verify_error;
}

TEST_F(ClientContextTest, WithoutNamesNothingCountsAsVerified) {
    // A chain valid for some name proves nothing when no name was asked for.
    auto leaf = make_cert("mx.example.org", {"mx.example.org"}, false, &ca_);
    auto s = handshake(leaf, PeerRequirement{Level::kMay, "mx.example.org", {}, {}, "policy"});
    EXPECT_FALSE(s.verified);
    EXPECT_EQ(s.verify_error, "no name to verify");
}

TEST_F(ClientContextTest, DaneEeMatchesTheKeyWhateverTheNamesAndIssuer) {
    auto self = make_cert("unrelated", {"unrelated.example.org"}, false, nullptr);
    auto s =
        handshake(self, dane({"mx.example.org"}, {record(3, 1, spki_sha256(self.cert.get()))}));
    EXPECT_TRUE(s.verified) << s.verify_error;
    s = handshake(self, dane({"mx.example.org"}, {record(3, 0, cert_sha256(self.cert.get()))}));
    EXPECT_TRUE(s.verified) << s.verify_error;
}

TEST_F(ClientContextTest, DaneEeRefusesAnotherKey) {
    auto self = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    auto other = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    auto s =
        handshake(self, dane({"mx.example.org"}, {record(3, 1, spki_sha256(other.cert.get()))}));
    EXPECT_FALSE(s.verified);
    EXPECT_FALSE(s.verify_error.empty());
}

TEST_F(ClientContextTest, DaneEeWithOneMatchingRecordAmongOthers) {
    auto self = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    auto other = make_cert("mx.example.org", {"mx.example.org"}, false, nullptr);
    auto s =
        handshake(self, dane({"mx.example.org"}, {record(3, 1, spki_sha256(other.cert.get())),
                                                  record(3, 1, spki_sha256(self.cert.get()))}));
    EXPECT_TRUE(s.verified) << s.verify_error;
}

TEST_F(ClientContextTest, DaneTaNeedsTheAnchorInTheChainAndANameOfTheHostOrDomain) {
    auto ta = record(2, 0, cert_sha256(ca_.cert.get()));
    auto leaf = make_cert("mx.example.org", {"mx.example.org"}, false, &ca_);
    auto s = handshake(leaf, dane({"mx.example.org", "example.org"}, {ta}), &ca_);
    EXPECT_TRUE(s.verified) << s.verify_error;
    // The MX host name is not in the certificate: not verified.
    s = handshake(leaf, dane({"mx2.example.org", "example.org"}, {ta}), &ca_);
    EXPECT_FALSE(s.verified);
    EXPECT_EQ(s.verify_error, "hostname mismatch");
    // The next-hop domain (the second name) is in it: verified (RFC 7672 3.2.2).
    auto for_domain = make_cert("example.org", {"example.org"}, false, &ca_);
    s = handshake(for_domain, dane({"mx.example.org", "example.org"}, {ta}), &ca_);
    EXPECT_TRUE(s.verified) << s.verify_error;
    // Another CA's key: not verified.
    auto other_ca = make_cert("Other CA", {}, true, nullptr);
    s = handshake(leaf, dane({"mx.example.org"}, {record(2, 0, cert_sha256(other_ca.cert.get()))}),
                  &ca_);
    EXPECT_FALSE(s.verified);
}

TEST_F(ClientContextTest, PrepareRefusesDaneWithoutRecords) {
    Owned<SSL> ssl(SSL_new(client_->context().native_handle()));
    auto r = client_->prepare(ssl.get(), dane({"mx.example.org"}, {}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "no usable TLSA record");
}

TEST_F(ClientContextTest, PrepareSetsTheServerName) {
    Owned<SSL> ssl(SSL_new(client_->context().native_handle()));
    ASSERT_TRUE(client_->prepare(ssl.get(), verify("mx.example.org")));
    EXPECT_STREQ(SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name), "mx.example.org");
    Owned<SSL> none(SSL_new(client_->context().native_handle()));
    ASSERT_TRUE(client_->prepare(none.get(), PeerRequirement{}));
    EXPECT_EQ(SSL_get_servername(none.get(), TLSEXT_NAMETYPE_host_name), nullptr);
}

}  // namespace
}  // namespace tern::tls
