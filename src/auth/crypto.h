// The cryptographic primitives SASL and the account store need, on OpenSSL 3: SHA-256,
// HMAC-SHA-256, PBKDF2-HMAC-SHA-256, random bytes, base64 and constant-time comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/error.h"

namespace tern::auth {

// Octets in a SHA-256 digest, and so in every key and signature of SCRAM-SHA-256.
inline constexpr std::size_t kDigestSize = 32;

// Byte strings are std::string throughout (binary, not text).
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string pbkdf2_sha256(std::string_view password, std::string_view salt,
                          std::uint32_t iterations);

// `n` octets from OpenSSL's CSPRNG; fails only when it cannot be seeded.
Result<std::string> random_bytes(std::size_t n);

// Base64 as SASL uses it: the codec of base/base64.h.
using ::tern::base64_decode;
using ::tern::base64_encode;

// Equality whose running time depends on the length only, never on where `a` and `b` differ.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace tern::auth
