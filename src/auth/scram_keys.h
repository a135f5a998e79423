// The per-account secrets of SCRAM-SHA-256 (RFC 5802 section 3, RFC 7677): salt, iteration
// count, StoredKey and ServerKey, derived once when the password is set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace tern::auth {

// RFC 7677 section 4: the iteration count SHOULD be at least 4096.
inline constexpr std::uint32_t kMinScramIterations = 4096;

struct ScramKeys {
    std::string salt;              // octets (16 when made by new_scram_keys)
    std::uint32_t iterations = 0;  // PBKDF2 rounds
    std::string stored_key;        // H(HMAC(SaltedPassword, "Client Key")), 32 octets
    std::string server_key;        // HMAC(SaltedPassword, "Server Key"), 32 octets
};

// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations), then both keys from it.
// The password is used as given (see identity.h on SASLprep).
ScramKeys derive_scram_keys(std::string_view password, std::string salt, std::uint32_t iterations);

// derive_scram_keys with a fresh 16-octet random salt.
Result<ScramKeys> new_scram_keys(std::string_view password, std::uint32_t iterations);

}  // namespace tern::auth
