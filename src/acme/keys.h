// The keys of the ACME client (RFC 8555): the account key that signs every request as a JWS
// (RFC 7515, ES256 with a P-256 key) and identifies the account by its JWK thumbprint (RFC 7638),
// and the certificate's own key with the certificate signing request (PKCS #10) naming the hosts.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace tern::acme {

// A P-256 key in memory.
class EcKey {
  public:
    static Result<EcKey> generate();
    static Result<EcKey> from_pem(std::string_view pem);
    // Reads `path`, or when it does not exist makes a key and writes it there (mode 0600,
    // never replacing a file). The error names the file.
    static Result<EcKey> load_or_create(const std::string& path);

    std::string pem() const;  // PKCS #8 private key
    // {"crv":"P-256","kty":"EC","x":...,"y":...}: the members of RFC 7638 in its order.
    std::string jwk() const;
    // base64url(SHA-256(jwk())): the account's thumbprint in key authorizations (RFC 8555 8.1).
    std::string thumbprint() const;
    // The JWS signature of "protected.payload" (both already base64url): ES256, r || s.
    Result<std::string> sign(std::string_view signing_input) const;
    EVP_PKEY* native() const { return key_.get(); }

  private:
    struct Free {
        void operator()(EVP_PKEY* k) const;
    };
    explicit EcKey(EVP_PKEY* key) : key_(key, Free{}) {}
    std::shared_ptr<EVP_PKEY> key_;
};

// The flattened JSON serialisation of a JWS (RFC 7515 7.2.2) over `payload` ("" for the
// POST-as-GET of RFC 8555 6.3), with the protected header of RFC 8555 6.2: alg ES256, the
// nonce, the URL, and either the account URL (kid) or, before there is one, the key (jwk).
Result<std::string> signed_request(const EcKey& key, std::string_view kid, std::string_view nonce,
                                   std::string_view url, std::string_view payload);

// Writes `data` to `path` durably and privately: a temporary file (mode 0600) synced, renamed
// over `path`, and the directory synced; the error names the file.
Result<void> write_private_file(const std::string& path, std::string_view data);
// rename() and a sync of the directory.
Result<void> rename_durably(const std::string& from, const std::string& to);

// A certificate signing request (DER) for `names` (all as subjectAltName DNS names, the first
// also as CN), signed with `key`.
Result<std::string> certificate_request(const EcKey& key, const std::vector<std::string>& names);

}  // namespace tern::acme
