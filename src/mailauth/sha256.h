// Sha256: a streaming SHA-256 (OpenSSL EVP), the one hash DKIM and ARC still accept (RFC 8301
// retired SHA-1), used for body hashes and for the hash of the signed header fields.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace tern::mailauth {

inline constexpr std::size_t kSha256Size = 32;

class Sha256 {
  public:
    Sha256();
    Sha256(const Sha256& other);  // the state so far, so one prefix can end in two digests
    Sha256& operator=(const Sha256&) = delete;
    Sha256(Sha256&&) noexcept = default;
    Sha256& operator=(Sha256&&) noexcept = default;
    ~Sha256();

    void update(std::string_view data);

    // The 32-octet digest of everything given; the object is spent afterwards.
    std::string finish();

  private:
    struct Free {
        void operator()(evp_md_ctx_st* ctx) const;
    };
    std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

}  // namespace tern::mailauth
