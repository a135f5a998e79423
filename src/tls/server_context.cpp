// ServerContext: one OpenSSL context per certificate, the first one carrying the SNI callback
// that moves a handshake to the context whose certificate names the requested host. A reload
// builds a complete new set before it replaces the old one.
#include "tls/server_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>

#include "base/text.h"
#include "tls/openssl_error.h"

namespace tern::tls {
namespace asio = boost::asio;

namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy and AEAD only. TLS 1.3 suites are
// OpenSSL's defaults, all of them AEAD.
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// Refuses every pass phrase request: without it OpenSSL would prompt on the terminal.
int no_pass_phrase(char*, int, int, void*) {
    return -1;
}

// The private key in the PEM file `path`, with an error that says what is wrong with the file.
Result<KeyPtr> read_private_key(const std::string& path) {
    std::FILE* in = std::fopen(path.c_str(), "rbe");
    if (!in) return std::unexpected(Error::from_errno(errno, "TLS private key " + path));
    KeyPtr key(PEM_read_PrivateKey(in, nullptr, &no_pass_phrase, nullptr), &EVP_PKEY_free);
    std::fclose(in);
    if (!key) {
        ERR_clear_error();
        return fail(ErrorCode::kInvalid,
                    "TLS private key " + path + ": no PEM private key (unencrypted) in the file");
    }
    return key;
}

// The DNS names a certificate is for: its subjectAltName entries, else its common name.
std::vector<std::string> names_of(X509* cert) {
    std::vector<std::string> out;
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
            if (n->type != GEN_DNS) continue;
            const unsigned char* data = ASN1_STRING_get0_data(n->d.dNSName);
            out.emplace_back(reinterpret_cast<const char*>(data),
                             static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
        }
        GENERAL_NAMES_free(sans);
    }
    if (out.empty()) {
        char cn[256] = {};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) >
            0)
            out.emplace_back(cn);
    }
    for (auto& n : out)
        n = ascii_lower(n);
    return out;
}

bool name_matches(const std::string& pattern, const std::string& host) {
    if (pattern.rfind("*.", 0) == 0) {
        auto dot = host.find('.');
        return dot != std::string::npos && dot > 0 && host.substr(dot + 1) == pattern.substr(2);
    }
    return pattern == host;
}

}  // namespace

struct ServerContext::Set {
    struct Entry {
        std::shared_ptr<asio::ssl::context> context;
        std::vector<std::string> names;
        std::string file;  // the certificate file it came from
    };
    std::vector<Entry> entries;  // entries[0] is the default

    // The SNI callback on entries[0]: switch the handshake to the certificate for the name.
    static int on_servername(SSL* ssl, int*, void* arg) {
        auto* set = static_cast<Set*>(arg);
        const char* requested = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        if (!requested) return SSL_TLSEXT_ERR_OK;
        std::string host(requested);
        for (auto& c : host)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        for (std::size_t i = 1; i < set->entries.size(); ++i) {
            for (const auto& n : set->entries[i].names) {
                if (!name_matches(n, host)) continue;
                SSL_set_SSL_CTX(ssl, set->entries[i].context->native_handle());
                return SSL_TLSEXT_ERR_OK;
            }
        }
        return SSL_TLSEXT_ERR_OK;  // no match: the default certificate
    }
};

std::optional<CertificateFiles> parse_certificate_entry(std::string_view entry) {
    CertificateFiles f;
    auto comma = entry.find(',');
    f.cert = trim_blanks(entry.substr(0, comma));
    if (comma != std::string_view::npos) {
        f.key = trim_blanks(entry.substr(comma + 1));
        if (f.key.empty() || f.key.find(',') != std::string::npos) return std::nullopt;
    }
    if (f.cert.empty()) return std::nullopt;
    return f;
}

Result<std::unique_ptr<ServerContext>> ServerContext::create(ServerOptions options) {
    if (options.certificates.empty()) return fail(ErrorCode::kInvalid, "no TLS certificate");
    std::unique_ptr<ServerContext> server(new ServerContext(std::move(options)));
    auto set = server->load();
    if (!set) return std::unexpected(set.error());
    server->current_ = std::move(*set);
    return server;
}

Result<std::shared_ptr<ServerContext::Set>> ServerContext::load() const {
    auto set = std::make_shared<Set>();
    for (const auto& files : options_.certificates) {
        ERR_clear_error();  // no stale reason from earlier work on this thread in a message
        auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
        SSL_CTX* native = ctx->native_handle();
        SSL_CTX_set_min_proto_version(native,
                                      options_.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
        SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
        if (SSL_CTX_set_cipher_list(native, kCiphers12) != 1)
            return fail(ErrorCode::kInvalid, openssl_error("TLS cipher list"));
        SSL_CTX_set_dh_auto(native, 1);  // DHE suites with the built-in groups
        // No session tickets (TLS 1.2: SSL_OP_NO_TICKET; TLS 1.3: none issued): their key would
        // need rotating across workers and reloads, and a fresh handshake is cheap.
        SSL_CTX_set_num_tickets(native, 0);
        SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
        std::string key = files.key.empty() ? files.cert : files.key;
        if (SSL_CTX_use_certificate_chain_file(native, files.cert.c_str()) != 1)
            return fail(ErrorCode::kInvalid, openssl_error("TLS certificate " + files.cert));
        auto pkey = read_private_key(key);
        if (!pkey) return std::unexpected(pkey.error());
        // OpenSSL refuses a key of the certificate's type that does not match it already here.
        bool used = SSL_CTX_use_PrivateKey(native, pkey->get()) == 1;
        bool mismatch = !used && ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH;
        if (!used && !mismatch)
            return fail(ErrorCode::kInvalid, openssl_error("TLS private key " + key));
        if (mismatch || SSL_CTX_check_private_key(native) != 1) {
            ERR_clear_error();
            return fail(
                ErrorCode::kInvalid,
                "TLS private key " + key + " does not belong to the certificate " + files.cert);
        }
        set->entries.push_back(
            Set::Entry{ctx, names_of(SSL_CTX_get0_certificate(native)), files.cert});
    }
    SSL_CTX* first = set->entries.front().context->native_handle();
    SSL_CTX_set_tlsext_servername_callback(first, &Set::on_servername);
    SSL_CTX_set_tlsext_servername_arg(first, set.get());
    return set;
}

std::shared_ptr<asio::ssl::context> ServerContext::context() const {
    std::lock_guard lock(mutex_);
    // Shares ownership with the set, so the set lives as long as a connection uses it.
    return std::shared_ptr<asio::ssl::context>(current_, current_->entries.front().context.get());
}

Result<void> ServerContext::reload() {
    std::lock_guard reloading(reload_mutex_);
    auto set = load();
    if (!set) return std::unexpected(set.error());
    std::lock_guard lock(mutex_);
    current_ = std::move(*set);
    return {};
}

Result<void> ServerContext::replace(std::vector<CertificateFiles> certificates) {
    if (certificates.empty()) return fail(ErrorCode::kInvalid, "no TLS certificate");
    std::lock_guard reloading(reload_mutex_);
    ServerOptions previous = options_;
    options_.certificates = std::move(certificates);
    auto set = load();
    if (!set) {
        options_ = std::move(previous);
        return std::unexpected(set.error());
    }
    std::lock_guard lock(mutex_);
    current_ = std::move(*set);
    return {};
}

std::vector<std::string> ServerContext::names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& e : current_->entries)
        out.insert(out.end(), e.names.begin(), e.names.end());
    return out;
}

std::vector<CertificateSummary> ServerContext::certificates() const {
    std::shared_ptr<Set> set;
    {
        std::lock_guard lock(mutex_);
        set = current_;
    }
    std::vector<CertificateSummary> out;
    for (std::size_t i = 0; i < set->entries.size(); ++i) {
        X509* cert = SSL_CTX_get0_certificate(set->entries[i].context->native_handle());
        CertificateSummary s;
        s.names = set->entries[i].names;
        s.file = set->entries[i].file;
        if (!cert) {
            out.push_back(std::move(s));
            continue;
        }
        auto unix_of = [](const ASN1_TIME* t) -> std::int64_t {
            struct tm tm {};
            if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
            return static_cast<std::int64_t>(timegm(&tm));
        };
        s.not_before = unix_of(X509_get0_notBefore(cert));
        s.not_after = unix_of(X509_get0_notAfter(cert));
        char issuer[512];
        X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof issuer);
        s.issuer = issuer;
        s.self_signed = X509_check_issued(cert, cert) == X509_V_OK;
        out.push_back(std::move(s));
    }
    return out;
}

std::string protocol_of(const SSL* ssl) {
    return SSL_get_version(ssl);
}

std::string cipher_of(const SSL* ssl) {
    const char* c = SSL_get_cipher_name(ssl);
    return c ? c : "";
}

}  // namespace tern::tls
