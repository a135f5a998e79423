// ClientContext: an OpenSSL client context with TLS 1.2 as the floor and DANE enabled. The
// handshake never fails on the certificate (SSL_VERIFY_NONE): inspect() reads OpenSSL's verdict
// afterwards, so opportunistic TLS still encrypts and stricter levels refuse in one place.
#include "tls/client_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/openssl_error.h"

namespace tern::tls {
namespace asio = boost::asio;

namespace {

// Full association data (matching type 0) must be exactly one DER certificate (selector 0) or
// SubjectPublicKeyInfo (selector 1), as SSL_dane_tlsa_add() requires; anything else is unusable.
bool full_data_parses(const dns::TlsaRecord& r) {
    const auto* start = reinterpret_cast<const unsigned char*>(r.data.data());
    const unsigned char* p = start;
    auto size = static_cast<long>(r.data.size());
    bool parsed = false;
    if (r.selector == 0) {
        X509* cert = d2i_X509(nullptr, &p, size);
        parsed = cert != nullptr;
        X509_free(cert);
    } else {
        EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, size);
        parsed = key != nullptr;
        EVP_PKEY_free(key);
    }
    ERR_clear_error();
    return parsed && p == start + size;
}

}  // namespace

std::string_view level_name(Level level) {
    switch (level) {
        case Level::kNone:
            return "none";
        case Level::kMay:
            return "may";
        case Level::kEncrypt:
            return "encrypt";
        case Level::kVerify:
            return "verify";
        case Level::kDane:
            return "dane";
    }
    return "";
}

std::optional<Level> parse_level(std::string_view text) {
    for (auto l : {Level::kNone, Level::kMay, Level::kEncrypt, Level::kVerify})
        if (text == level_name(l)) return l;
    return std::nullopt;
}

std::vector<dns::TlsaRecord> usable_tlsa(const std::vector<dns::TlsaRecord>& records) {
    std::vector<dns::TlsaRecord> out;
    for (const auto& r : records) {
        bool usage = r.usage == 2 || r.usage == 3;  // DANE-TA, DANE-EE
        bool selector = r.selector <= 1;            // Cert, SPKI
        bool matching = r.matching <= 2;            // Full, SHA2-256, SHA2-512
        std::size_t want = r.matching == 1 ? 32 : r.matching == 2 ? 64 : 0;
        if (usage && selector && matching && !r.data.empty() &&
            (want == 0 ? full_data_parses(r) : r.data.size() == want))
            out.push_back(r);
    }
    return out;
}

std::string Session::summary(const PeerRequirement& requirement) const {
    if (protocol.empty()) return "no TLS";
    std::string out = protocol + " " + cipher;
    if (verified && !requirement.names.empty())
        out += " (verified, " + requirement.source + ")";
    else if (requirement.level >= Level::kVerify || !requirement.names.empty())
        out += " (NOT verified: " + verify_error + ")";
    else
        out += " (not verified)";
    return out;
}

Result<std::unique_ptr<ClientContext>> ClientContext::create(const ClientOptions& options) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX* native = ctx.native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        return fail(ErrorCode::kInvalid, openssl_error("TLS client minimum version"));
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
    // Verification happens in inspect(), after the handshake, by the connection's own level.
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    // The system's CAs always; the configured ones in addition (a private CA for some hosts
    // must not cost the trust in public ones, which MTA-STS policy hosts need).
    if (SSL_CTX_set_default_verify_paths(native) != 1)
        return fail(ErrorCode::kInvalid, openssl_error("the system CA store"));
    if ((!options.ca_file.empty() || !options.ca_path.empty()) &&
        SSL_CTX_load_verify_locations(
            native, options.ca_file.empty() ? nullptr : options.ca_file.c_str(),
            options.ca_path.empty() ? nullptr : options.ca_path.c_str()) != 1) {
        return fail(ErrorCode::kInvalid,
                    openssl_error("CA certificates " + options.ca_file + options.ca_path));
    }
    if (SSL_CTX_dane_enable(native) <= 0)
        return fail(ErrorCode::kInvalid, openssl_error("DANE support"));
    return std::unique_ptr<ClientContext>(new ClientContext(std::move(ctx)));
}

Result<void> ClientContext::prepare(SSL* ssl, const PeerRequirement& r) const {
    if (!r.sni.empty() && SSL_set_tlsext_host_name(ssl, r.sni.c_str()) != 1)
        return fail(ErrorCode::kInvalid, openssl_error("SNI " + r.sni));
    if (r.level == Level::kDane) {
        // The first name is the base domain of the name checks that DANE-TA needs (RFC 7672
        // 3.2.3); DANE-EE matches the key alone (3.1.1), whatever names it carries.
        std::string base = r.names.empty() ? r.sni : r.names.front();
        if (SSL_dane_enable(ssl, base.c_str()) <= 0)
            return fail(ErrorCode::kInvalid, openssl_error("DANE for " + base));
        SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
        for (std::size_t i = 1; i < r.names.size(); ++i)
            SSL_add1_host(ssl, r.names[i].c_str());
        int usable = 0;
        for (const auto& t : r.tlsa) {
            int rc = SSL_dane_tlsa_add(ssl, t.usage, t.selector, t.matching,
                                       reinterpret_cast<const unsigned char*>(t.data.data()),
                                       t.data.size());
            if (rc > 0) ++usable;
        }
        ERR_clear_error();
        if (usable == 0) return fail(ErrorCode::kInvalid, "no usable TLSA record");
    } else if (!r.names.empty()) {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        bool first = true;
        for (const auto& name : r.names) {
            int rc = first ? SSL_set1_host(ssl, name.c_str()) : SSL_add1_host(ssl, name.c_str());
            if (rc != 1) return fail(ErrorCode::kInvalid, openssl_error("reference name " + name));
            first = false;
        }
    }
    return {};
}

Session ClientContext::inspect(SSL* ssl, const PeerRequirement& r) const {
    Session s;
    s.protocol = SSL_get_version(ssl);
    if (const char* c = SSL_get_cipher_name(ssl)) s.cipher = c;
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert) {
        char subject[256] = {};
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        s.peer_subject = subject;
        X509_free(cert);
    }
    long result = SSL_get_verify_result(ssl);
    if (!cert) {
        s.verify_error = "no certificate";
    } else if (result != X509_V_OK) {
        s.verify_error = X509_verify_cert_error_string(result);
    } else if (r.level == Level::kDane && SSL_get0_dane_authority(ssl, nullptr, nullptr) < 0) {
        s.verify_error = "no TLSA record matched";
    } else if (r.level != Level::kDane && r.names.empty()) {
        s.verify_error = "no name to verify";  // a valid chain for an unknown name proves nothing
    } else {
        s.verified = true;
    }
    return s;
}

}  // namespace tern::tls
