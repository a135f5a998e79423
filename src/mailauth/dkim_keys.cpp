// PublicKey and PrivateKey on OpenSSL 3's EVP_PKEY: DER and raw public keys, PEM private keys,
// RSASSA-PKCS1-v1_5/SHA-256 over a digest, and Ed25519 over a digest.
#include "mailauth/dkim_keys.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/base64.h"

namespace tern::mailauth {
namespace {

using detail::Pkey;

struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The reason OpenSSL gave for the last failure, and its error queue emptied.
std::string openssl_reason() {
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return "unknown reason";
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? reason : "unknown reason";
}

std::optional<KeyType> type_of(const EVP_PKEY* key) {
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return KeyType::kRsa;
        case EVP_PKEY_ED25519:
            return KeyType::kEd25519;
        default:
            return std::nullopt;
    }
}

// The octets a key record publishes for `key` (private or public): SubjectPublicKeyInfo DER
// for RSA, the raw 32 octets for Ed25519.
std::string public_octets(EVP_PKEY* key, KeyType type) {
    if (type == KeyType::kEd25519) {
        std::string out(32, '\0');
        std::size_t len = out.size();
        EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(out.data()), &len);
        out.resize(len);
        return out;
    }
    int len = i2d_PUBKEY(key, nullptr);
    if (len <= 0) return {};
    std::string out(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    i2d_PUBKEY(key, &p);
    return out;
}

// A passphrase callback that refuses: an encrypted key fails to load instead of prompting.
int no_passphrase(char*, int, int, void*) {
    return 0;
}

}  // namespace

void detail::PkeyFree::operator()(evp_pkey_st* key) const {
    EVP_PKEY_free(key);
}

std::string_view key_type_name(KeyType type) {
    return type == KeyType::kRsa ? "rsa" : "ed25519";
}

std::optional<KeyType> parse_key_type(std::string_view word) {
    if (word == "rsa") return KeyType::kRsa;
    if (word == "ed25519") return KeyType::kEd25519;
    return std::nullopt;
}

std::string_view algorithm_name(Algorithm algorithm) {
    return algorithm == Algorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

std::optional<Algorithm> parse_algorithm(std::string_view word) {
    if (word == "rsa-sha256") return Algorithm::kRsaSha256;
    if (word == "ed25519-sha256") return Algorithm::kEd25519Sha256;
    return std::nullopt;
}

KeyType key_type_of(Algorithm algorithm) {
    return algorithm == Algorithm::kRsaSha256 ? KeyType::kRsa : KeyType::kEd25519;
}

Algorithm algorithm_for(KeyType type) {
    return type == KeyType::kRsa ? Algorithm::kRsaSha256 : Algorithm::kEd25519Sha256;
}

Result<PublicKey> PublicKey::from_record(KeyType type, std::string_view octets) {
    if (type == KeyType::kEd25519) {
        if (octets.size() != 32)
            return fail(ErrorCode::kInvalid,
                        "an Ed25519 key must be 32 octets, not " + std::to_string(octets.size()));
        Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(octets), 32));
        if (!key) return fail(ErrorCode::kInvalid, "bad Ed25519 key: " + openssl_reason());
        return PublicKey(type, std::move(key));
    }
    const unsigned char* p = bytes(octets);
    Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(octets.size())));
    if (!key) {
        ERR_clear_error();
        p = bytes(octets);  // some publish the bare PKCS#1 RSAPublicKey
        key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(octets.size())));
    }
    if (!key || p != bytes(octets) + octets.size()) {
        ERR_clear_error();
        return fail(ErrorCode::kInvalid, "p= is not an RSA public key");
    }
    if (type_of(key.get()) != KeyType::kRsa)
        return fail(ErrorCode::kInvalid, "p= holds a key that is not RSA");
    return PublicKey(type, std::move(key));
}

int PublicKey::bits() const {
    return EVP_PKEY_get_bits(key_.get());
}

bool PublicKey::verify(std::string_view digest, std::string_view signature) const {
    bool ok = false;
    if (type_ == KeyType::kEd25519) {
        MdCtx md(EVP_MD_CTX_new());
        ok = md && EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
             EVP_DigestVerify(md.get(), bytes(signature), signature.size(), bytes(digest),
                              digest.size()) == 1;
    } else {
        PkeyCtx ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
        ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
             EVP_PKEY_verify(ctx.get(), bytes(signature), signature.size(), bytes(digest),
                             digest.size()) == 1;
    }
    ERR_clear_error();
    return ok;
}

std::string PublicKey::record_value() const {
    return base64_encode(public_octets(key_.get(), type_));
}

bool PublicKey::operator==(const PublicKey& other) const {
    return type_ == other.type_ && EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return fail(ErrorCode::kIo, "out of memory");
    Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) return fail(ErrorCode::kInvalid, "not a PEM private key: " + openssl_reason());
    auto type = type_of(key.get());
    if (!type) return fail(ErrorCode::kInvalid, "the key is neither RSA nor Ed25519");
    return PrivateKey(*type, std::move(key));
}

Result<PrivateKey> PrivateKey::generate(KeyType type, int bits) {
    Pkey key;
    if (type == KeyType::kEd25519) {
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    } else {
        if (bits < 1024) return fail(ErrorCode::kInvalid, "RSA keys must have 1024 bits or more");
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    }
    if (!key) return fail(ErrorCode::kIo, "key generation failed: " + openssl_reason());
    return PrivateKey(type, std::move(key));
}

int PrivateKey::bits() const {
    return EVP_PKEY_get_bits(key_.get());
}

Result<std::string> PrivateKey::sign(std::string_view digest) const {
    std::string out;
    std::size_t len = 0;
    bool ok = false;
    if (type_ == KeyType::kEd25519) {
        MdCtx md(EVP_MD_CTX_new());
        ok = md && EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
             EVP_DigestSign(md.get(), nullptr, &len, bytes(digest), digest.size()) == 1;
        if (ok) {
            out.resize(len);
            ok = EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                                bytes(digest), digest.size()) == 1;
        }
    } else {
        PkeyCtx ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
        ok = ctx && EVP_PKEY_sign_init(ctx.get()) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
             EVP_PKEY_sign(ctx.get(), nullptr, &len, bytes(digest), digest.size()) == 1;
        if (ok) {
            out.resize(len);
            ok = EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                               bytes(digest), digest.size()) == 1;
        }
    }
    if (!ok) return fail(ErrorCode::kInvalid, "signing failed: " + openssl_reason());
    out.resize(len);
    return out;
}

PublicKey PrivateKey::public_key() const {
    auto key = PublicKey::from_record(type_, public_octets(key_.get(), type_));
    return std::move(*key);  // the octets of a loaded key always decode
}

std::string PrivateKey::to_pem() const {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace tern::mailauth
