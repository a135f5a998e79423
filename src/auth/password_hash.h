// Argon2id password hashes (RFC 9106) in the PHC string format, for PLAIN and LOGIN.
// Deliberately slow: call only from a worker thread (auth::Verifier) or the CLI, never a loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace tern::auth {

// Cost of a new hash. The defaults are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane),
// chosen because a mail server checks a password on every submission session.
struct Argon2Params {
    std::uint32_t memory_kib = 19456;  // KiB of memory per hash
    std::uint32_t iterations = 2;      // passes over that memory
    std::uint32_t parallelism = 1;     // lanes (threads inside libargon2)
};

// "$argon2id$v=19$m=...,t=...,p=...$salt$hash" with a fresh 16-octet random salt.
// Fails (kInvalid) on parameters libargon2 refuses, or when no random salt can be had.
Result<std::string> hash_password(std::string_view password, const Argon2Params& params);

// True when `password` matches `encoded`; false on a mismatch or a hash that cannot be parsed.
// The parameters are read from `encoded`, so hashes made under older settings keep working.
bool password_matches(std::string_view encoded, std::string_view password);

}  // namespace tern::auth
