// hash_password and password_matches on libargon2. libargon2 compares the digests in constant
// time itself (argon2_verify), so nothing here branches on secret data.
#include "auth/password_hash.h"

#include <argon2.h>

#include "auth/crypto.h"

namespace tern::auth {
namespace {

constexpr std::uint32_t kSaltSize = 16;  // octets; RFC 9106 recommends 128 bits
constexpr std::uint32_t kHashSize = 32;  // octets of tag

}  // namespace

Result<std::string> hash_password(std::string_view password, const Argon2Params& params) {
    auto salt = random_bytes(kSaltSize);
    if (!salt) return std::unexpected(salt.error());
    std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                          kSaltSize, kHashSize, Argon2_id),
                        '\0');
    int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                   password.data(), password.size(), salt->data(), salt->size(),
                                   kHashSize, encoded.data(), encoded.size());
    if (rc != ARGON2_OK)
        return fail(
            rc == ARGON2_MEMORY_ALLOCATION_ERROR ? ErrorCode::kTemporary : ErrorCode::kInvalid,
            std::string("argon2id: ") + argon2_error_message(rc));
    encoded.resize(encoded.find('\0'));
    return encoded;
}

bool password_matches(std::string_view encoded, std::string_view password) {
    std::string text(encoded);  // libargon2 wants it NUL-terminated
    return argon2id_verify(text.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace tern::auth
