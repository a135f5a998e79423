// The keys of DKIM and ARC signatures on OpenSSL 3 (EVP_PKEY): RSA (rsa-sha256, RFC 6376 and
// RFC 8301) and Ed25519 (ed25519-sha256, RFC 8463). Private keys come from PEM text, public
// keys from the p= value of a key record; signing and verifying work on the SHA-256 of the
// header data, so one header hash serves every algorithm.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

struct evp_pkey_st;

namespace tern::mailauth {

enum class KeyType { kRsa, kEd25519 };

// The signing algorithms still allowed (RFC 8301 retired rsa-sha1).
enum class Algorithm { kRsaSha256, kEd25519Sha256 };

// "rsa" / "ed25519": the k= word of a key record.
std::string_view key_type_name(KeyType type);
std::optional<KeyType> parse_key_type(std::string_view word);

// "rsa-sha256" / "ed25519-sha256": the a= word of a signature.
std::string_view algorithm_name(Algorithm algorithm);
std::optional<Algorithm> parse_algorithm(std::string_view word);
KeyType key_type_of(Algorithm algorithm);
Algorithm algorithm_for(KeyType type);

namespace detail {
struct PkeyFree {
    void operator()(evp_pkey_st* key) const;
};
using Pkey = std::unique_ptr<evp_pkey_st, PkeyFree>;
}  // namespace detail

class PublicKey {
  public:
    // From the decoded p= value: for RSA a DER SubjectPublicKeyInfo (or, as some publish, a
    // bare PKCS#1 RSAPublicKey); for Ed25519 the 32 raw octets (RFC 8463 section 4).
    static Result<PublicKey> from_record(KeyType type, std::string_view octets);

    KeyType type() const { return type_; }
    int bits() const;  // the RSA modulus size; 256 for Ed25519

    // True when `signature` is this key's signature of the header hash `digest` (32 octets).
    bool verify(std::string_view digest, std::string_view signature) const;

    // The p= value that publishes this key: base64 of the octets from_record() takes.
    std::string record_value() const;

    bool operator==(const PublicKey& other) const;

  private:
    PublicKey(KeyType type, detail::Pkey key) : type_(type), key_(std::move(key)) {}
    KeyType type_;
    detail::Pkey key_;
    friend class PrivateKey;
};

class PrivateKey {
  public:
    // From PEM text: "PRIVATE KEY" (PKCS#8, RSA or Ed25519) or "RSA PRIVATE KEY" (PKCS#1).
    static Result<PrivateKey> from_pem(std::string_view pem);

    // A new key: RSA of `bits` bits (at least 1024), or Ed25519.
    static Result<PrivateKey> generate(KeyType type, int bits = 2048);

    KeyType type() const { return type_; }
    int bits() const;

    // The signature of the header hash `digest` (32 octets): RSASSA-PKCS1-v1_5 with SHA-256,
    // or Ed25519 of the digest (RFC 8463 section 3).
    Result<std::string> sign(std::string_view digest) const;

    PublicKey public_key() const;

    // PKCS#8 PEM, unencrypted (the file is protected by its mode).
    std::string to_pem() const;

  private:
    PrivateKey(KeyType type, detail::Pkey key) : type_(type), key_(std::move(key)) {}
    KeyType type_;
    detail::Pkey key_;
};

}  // namespace tern::mailauth
