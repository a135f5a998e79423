// Derivation of SCRAM-SHA-256 StoredKey and ServerKey (RFC 5802 section 3). The salted password
// and the client key are wiped once the two stored values are computed.
#include "auth/scram_keys.h"

#include <openssl/crypto.h>

#include "auth/crypto.h"

namespace tern::auth {

ScramKeys derive_scram_keys(std::string_view password, std::string salt, std::uint32_t iterations) {
    std::string salted = pbkdf2_sha256(password, salt, iterations);
    std::string client_key = hmac_sha256(salted, "Client Key");
    ScramKeys keys{std::move(salt), iterations, sha256(client_key),
                   hmac_sha256(salted, "Server Key")};
    OPENSSL_cleanse(salted.data(), salted.size());
    OPENSSL_cleanse(client_key.data(), client_key.size());
    return keys;
}

Result<ScramKeys> new_scram_keys(std::string_view password, std::uint32_t iterations) {
    auto salt = random_bytes(16);
    if (!salt) return std::unexpected(salt.error());
    return derive_scram_keys(password, std::move(*salt), iterations);
}

}  // namespace tern::auth
