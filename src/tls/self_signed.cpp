// Self-signed default certificate: made with OpenSSL when no certificate is configured; the
// certificates earlier versions wrote are recognised by their exact shape and replaced once.
#include "tls/self_signed.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "tls/openssl_error.h"

namespace tern::tls {
namespace {

// Written as a comment extension into every certificate made here, so that a later version can
// tell the certificates it made from anyone else's without guessing from their shape.
constexpr const char* kMarker = "Tern self-signed default certificate";

constexpr std::array<unsigned char, 4> kLoopback4{127, 0, 0, 1};
constexpr std::array<unsigned char, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)>;

std::string_view text_of(const ASN1_STRING* s) {
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// The first certificate in a PEM file (which may hold a key before it); null when none.
CertPtr read_certificate(const std::string& path) {
    CertPtr cert(nullptr, &X509_free);
    if (std::FILE* in = std::fopen(path.c_str(), "rbe")) {
        cert.reset(PEM_read_X509(in, nullptr, nullptr, nullptr));
        std::fclose(in);
    }
    ERR_clear_error();
    return cert;
}

NamesPtr alt_names_of(X509* cert) {
    return NamesPtr(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
        &GENERAL_NAMES_free);
}

bool names_loopback_addresses(X509* cert) {
    NamesPtr names = alt_names_of(cert);
    bool v4 = false;
    bool v6 = false;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
        if (n->type != GEN_IPADD) continue;
        std::span ip(ASN1_STRING_get0_data(n->d.iPAddress),
                     static_cast<std::size_t>(ASN1_STRING_length(n->d.iPAddress)));
        v4 = v4 || std::ranges::equal(ip, kLoopback4);
        v6 = v6 || std::ranges::equal(ip, kLoopback6);
    }
    return v4 && v6;
}

bool has_marker(X509* cert) {
    auto* comment = static_cast<ASN1_IA5STRING*>(
        X509_get_ext_d2i(cert, NID_netscape_comment, nullptr, nullptr));
    bool ours = comment && text_of(comment) == kMarker;
    ASN1_IA5STRING_free(comment);
    return ours;
}

bool is_p256_key_of(X509* cert) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    char group[64] = {};
    std::size_t length = 0;
    return key && EVP_PKEY_is_a(key, "EC") &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &length) == 1 &&
           std::string_view(group) == "prime256v1" && X509_verify(cert, key) == 1;
}

// True for exactly what Tern made before it named 127.0.0.1 and ::1 (and before the marker): a
// version 3 certificate signed by its own P-256 key, a subject of one CN that is also the first
// subjectAltName, and three extensions: subjectAltName of DNS names only, localhost among them;
// critical basicConstraints CA:FALSE; extendedKeyUsage serverAuth alone.
bool made_by_older_tern(X509* cert) {
    X509_NAME* subject = X509_get_subject_name(cert);
    if (X509_get_version(cert) != 2 || X509_get_ext_count(cert) != 3 ||
        X509_NAME_cmp(subject, X509_get_issuer_name(cert)) != 0 ||
        X509_NAME_entry_count(subject) != 1 ||
        X509_NAME_get_index_by_NID(subject, NID_commonName, -1) != 0 || !is_p256_key_of(cert)) {
        return false;
    }
    int critical = 0;
    auto* basic = static_cast<BASIC_CONSTRAINTS*>(
        X509_get_ext_d2i(cert, NID_basic_constraints, &critical, nullptr));
    bool basic_ok = basic && !basic->ca && !basic->pathlen && critical == 1;
    BASIC_CONSTRAINTS_free(basic);
    auto* usage = static_cast<EXTENDED_KEY_USAGE*>(
        X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
    bool usage_ok = usage && sk_ASN1_OBJECT_num(usage) == 1 &&
                    OBJ_obj2nid(sk_ASN1_OBJECT_value(usage, 0)) == NID_server_auth;
    EXTENDED_KEY_USAGE_free(usage);
    NamesPtr names = alt_names_of(cert);
    if (!basic_ok || !usage_ok || !names || sk_GENERAL_NAME_num(names.get()) == 0) return false;
    bool localhost = false;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
        if (n->type != GEN_DNS) return false;
        localhost = localhost || text_of(n->d.dNSName) == "localhost";
    }
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, 0));
    return localhost && text_of(cn) == text_of(sk_GENERAL_NAME_value(names.get(), 0)->d.dNSName);
}

// True when the file holds a certificate made here (by this version or an older one) that does
// not name 127.0.0.1 and ::1. Anything else, unreadable files included, is left alone.
bool needs_renewal(const std::string& path) {
    CertPtr cert = read_certificate(path);
    if (!cert || names_loopback_addresses(cert.get())) return false;
    return has_marker(cert.get()) || made_by_older_tern(cert.get());
}

// Writes a new key and certificate to `path`: to a new file of mode 0600 under a temporary name
// (a leftover one, or a link there, is removed first), synced, then renamed: never a
// half-written or empty key.
Result<void> write_new(const std::string& path, const std::string& hostname) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    auto cleanup = [&] {
        X509_free(cert);
        EVP_PKEY_free(key);
    };
    if (!key || !cert) {
        cleanup();
        return fail(ErrorCode::kIo, openssl_error("cannot make a key"));
    }
    X509_set_version(cert, 2);
    unsigned char serial[16];
    std::FILE* urandom = std::fopen("/dev/urandom", "rb");
    bool random_ok = urandom && std::fread(serial, 1, sizeof serial, urandom) == sizeof serial;
    if (urandom) std::fclose(urandom);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    // The addresses let clients that connect to 127.0.0.1 or [::1] (as the README's examples
    // do) check the name against this certificate when they trust it.
    std::string san = "DNS:" + hostname + (hostname == "localhost" ? "" : ",DNS:localhost") +
                      ",IP:127.0.0.1,IP:::1";
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                              std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                              std::pair{NID_ext_key_usage, std::string("serverAuth")},
                              std::pair{NID_netscape_comment, std::string(kMarker)}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
        if (ext) {
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        }
    }
    if (!random_ok || X509_sign(cert, key, EVP_sha256()) == 0) {
        cleanup();
        return fail(ErrorCode::kIo, openssl_error("cannot sign the self-signed certificate"));
    }
    std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    std::FILE* out = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
    if (fd >= 0 && !out) ::close(fd);
    bool ok = out && PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
              PEM_write_X509(out, cert) == 1;
    if (out) ok = std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0 && ok;
    if (out) ok = std::fclose(out) == 0 && ok;
    cleanup();
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return fail(ErrorCode::kIo, "cannot write " + path);
    }
    return {};
}

}  // namespace

Result<SelfSigned> ensure_self_signed(const std::string& dir, const std::string& hostname) {
    SelfSigned result{CertificateFiles{dir + "/self-signed.pem", ""}, SelfSignedAction::kKept};
    const std::string& path = result.files.cert;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        if (!needs_renewal(path)) return result;
        result.action = SelfSignedAction::kRenewed;
    } else {
        std::filesystem::create_directories(dir, ec);
        if (ec) return fail(ErrorCode::kIo, "cannot create " + dir + ": " + ec.message());
        result.action = SelfSignedAction::kMade;
    }
    if (auto written = write_new(path, hostname); !written) {
        return std::unexpected(std::move(written.error()));
    }
    return result;
}

}  // namespace tern::tls
