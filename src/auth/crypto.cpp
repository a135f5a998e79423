// OpenSSL-backed implementations of the primitives in crypto.h (base64 lives in base/base64,
// shared with DKIM).
#include "auth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace tern::auth {
namespace {

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string sha256(std::string_view data) {
    std::string out(kDigestSize, '\0');
    SHA256(bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::string out(kDigestSize, '\0');
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
         reinterpret_cast<unsigned char*>(out.data()), &len);
    return out;
}

std::string pbkdf2_sha256(std::string_view password, std::string_view salt,
                          std::uint32_t iterations) {
    std::string out(kDigestSize, '\0');
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                      static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                      static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

Result<std::string> random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        return fail(ErrorCode::kTemporary, "the random number generator failed");
    return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tern::auth
