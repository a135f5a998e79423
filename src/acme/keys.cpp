// EcKey, the JWS of RFC 8555 requests, and the CSR, with OpenSSL 3.
#include "acme/keys.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/base64.h"
#include "base/durable_dirs.h"

namespace tern::acme {
namespace {

Error openssl_failure(std::string_view what) {
    unsigned long e = ERR_get_error();
    char text[256] = "unknown error";
    if (e) ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return Error{ErrorCode::kInvalid, std::string(what) + ": " + text};
}

std::string coordinate(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
    std::string out(32, '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_free(bn);
    return out;
}

}  // namespace

void EcKey::Free::operator()(EVP_PKEY* k) const {
    EVP_PKEY_free(k);
}

Result<EcKey> EcKey::generate() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (!key) return std::unexpected(openssl_failure("making a P-256 key"));
    return EcKey(key);
}

Result<EcKey> EcKey::from_pem(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) return std::unexpected(openssl_failure("reading a key"));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!key) return std::unexpected(openssl_failure("reading a key"));
    if (!EVP_PKEY_is_a(key, "EC") || coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X).empty()) {
        EVP_PKEY_free(key);
        return fail(ErrorCode::kInvalid, "the key is not a P-256 key");
    }
    char group[64] = "";
    size_t length = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length);
    if (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256") {
        EVP_PKEY_free(key);
        return fail(ErrorCode::kInvalid, "the key is not a P-256 key");
    }
    return EcKey(key);
}

Result<EcKey> EcKey::load_or_create(const std::string& path) {
    if (::access(path.c_str(), F_OK) == 0) {
        std::ifstream in(path);
        if (!in) return std::unexpected(Error::from_errno(errno, "read " + path));
        std::stringstream text;
        text << in.rdbuf();
        auto key = from_pem(text.str());
        if (!key) return fail(ErrorCode::kInvalid, path + ": " + key.error().message);
        return key;
    }
    auto key = generate();
    if (!key) return key;
    if (auto r = write_private_file(path, key->pem()); !r) return std::unexpected(r.error());
    return key;
}

Result<void> rename_durably(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        return std::unexpected(Error::from_errno(errno, "rename " + from));
    std::string dir = to.find('/') == std::string::npos ? "." : to.substr(0, to.rfind('/'));
    return sync_dir(dir.empty() ? "/" : dir);
}

Result<void> write_private_file(const std::string& path, std::string_view data) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "create " + tmp));
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
              ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return std::unexpected(Error::from_errno(err, "write " + tmp));
    }
    return rename_durably(tmp, path);
}

std::string EcKey::pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
}

std::string EcKey::jwk() const {
    return R"({"crv":"P-256","kty":"EC","x":")" +
           base64url_encode(coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X)) + R"(","y":")" +
           base64url_encode(coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y)) + R"("})";
}

std::string EcKey::thumbprint() const {
    std::string json = jwk();
    unsigned char digest[32];
    unsigned int n = 0;
    EVP_Digest(json.data(), json.size(), digest, &n, EVP_sha256(), nullptr);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), n));
}

Result<std::string> EcKey::sign(std::string_view signing_input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::string der(80, '\0');
    size_t length = der.size();
    bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
              EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &length,
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return std::unexpected(openssl_failure("signing"));
    // OpenSSL writes ECDSA-Sig-Value (DER); JWS wants r || s, 32 octets each (RFC 7518 3.4).
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(length));
    if (!sig) return std::unexpected(openssl_failure("signing"));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
}

Result<std::string> signed_request(const EcKey& key, std::string_view kid, std::string_view nonce,
                                   std::string_view url, std::string_view payload) {
    nlohmann::json header{{"alg", "ES256"}, {"nonce", nonce}, {"url", url}};
    if (kid.empty())
        header["jwk"] = nlohmann::json::parse(key.jwk());
    else
        header["kid"] = kid;
    std::string protected_b64 = base64url_encode(header.dump());
    std::string payload_b64 = base64url_encode(payload);
    auto signature = key.sign(protected_b64 + "." + payload_b64);
    if (!signature) return std::unexpected(signature.error());
    return nlohmann::json{{"protected", protected_b64},
                          {"payload", payload_b64},
                          {"signature", base64url_encode(*signature)}}
        .dump();
}

Result<std::string> certificate_request(const EcKey& key, const std::vector<std::string>& names) {
    if (names.empty()) return fail(ErrorCode::kInvalid, "a certificate needs at least one name");
    X509_REQ* req = X509_REQ_new();
    if (!req) return std::unexpected(openssl_failure("making a CSR"));
    struct Free {
        X509_REQ* r;
        ~Free() { X509_REQ_free(r); }
    } free_req{req};
    X509_REQ_set_version(req, 0);
    X509_NAME* subject = X509_REQ_get_subject_name(req);
    if (names.front().size() <= 64)
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(names.front().c_str()),
                                   -1, -1, 0);
    GENERAL_NAMES* sans = sk_GENERAL_NAME_new_null();
    for (const auto& name : names) {
        GENERAL_NAME* gn = GENERAL_NAME_new();
        ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
        ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size()));
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        sk_GENERAL_NAME_push(sans, gn);
    }
    STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* san = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans);
    GENERAL_NAMES_free(sans);
    if (!san) {
        sk_X509_EXTENSION_free(extensions);
        return std::unexpected(openssl_failure("making a CSR"));
    }
    sk_X509_EXTENSION_push(extensions, san);
    bool ok = X509_REQ_add_extensions(req, extensions) == 1;
    sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
    ok = ok && X509_REQ_set_pubkey(req, key.native()) == 1 &&
         X509_REQ_sign(req, key.native(), EVP_sha256()) > 0;
    if (!ok) return std::unexpected(openssl_failure("making a CSR"));
    int n = i2d_X509_REQ(req, nullptr);
    if (n <= 0) return std::unexpected(openssl_failure("making a CSR"));
    std::string der(static_cast<std::size_t>(n), '\0');
    unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509_REQ(req, &out);
    return der;
}

}  // namespace tern::acme
