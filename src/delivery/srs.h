// SrsCodec: the Sender Rewriting Scheme (Shevek's paper, as libsrs2 and Mail::SRS::Guarded do it):
// makes SRS0/SRS1 addresses for forwarded mail and turns them back, byte for byte compatible.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::delivery {

struct SrsOptions {
    std::vector<std::string> secrets;  // the first signs, every one verifies (key rotation)
    std::size_t hash_length = 4;       // base64 characters of the HMAC-SHA1 kept (4 = 24 bits)
    unsigned max_age_days = 21;        // an SRS0 address older than this no longer reverses
    char separator = '=';              // after SRS0/SRS1 in addresses we make: '=', '+' or '-'
};

enum class SrsError {
    kNotSrs,     // the local part does not start with SRS0 or SRS1 and a separator
    kMalformed,  // an SRS address missing a part (hash, timestamp, domain, local part)
    kBadHash,    // no secret gives this hash: forged, or made with a secret since retired
    kExpired,    // a genuine SRS0 address whose timestamp is older than max_age_days (or future)
};

// A short English text for the reply and the log ("invalid SRS signature", ...).
std::string_view srs_error_text(SrsError error);

// True when `local` starts with "SRS0" or "SRS1" (any case) followed by '=', '+' or '-'.
bool is_srs_local_part(std::string_view local);

// Sans-I/O: the time is an argument, the secrets are given. Addresses are "local@domain" with the
// local part unquoted; the domain is what follows the last '@'.
class SrsCodec {
  public:
    // `options.secrets` must not be empty (the configuration refuses it).
    explicit SrsCodec(SrsOptions options);

    // The return path for mail from `sender` forwarded by `forwarder_domain` at unix time `now`:
    // "SRS0=HHHH=TT=domain=local@forwarder" for an ordinary sender; for an SRS0 sender
    // "SRS1=HHHH=domain==HHHH=TT=...@forwarder", and an SRS1 sender keeps its first forwarder.
    // A sender at `forwarder_domain` itself is returned unchanged. kMalformed when `sender` has no
    // '@' or an empty local part or domain.
    std::expected<std::string, SrsError> forward(std::string_view sender,
                                                 std::string_view forwarder_domain,
                                                 std::int64_t now) const;

    // The address an SRS address stands for: the original sender for SRS0, the previous
    // forwarder's SRS0 address for SRS1. The hash must match a secret (any case, at least
    // hash_length characters); an SRS0 timestamp must be at most max_age_days old at `now`;
    // without `now` the age is not checked (it was when the address was accepted).
    std::expected<std::string, SrsError> reverse(std::string_view address,
                                                 std::optional<std::int64_t> now) const;

    // The two base32 characters of the day of `now` (days since 1970 mod 1024).
    static std::string timestamp(std::int64_t now);

  private:
    std::string hash(std::string_view secret, std::initializer_list<std::string_view> parts) const;
    bool hash_ok(std::string_view given, std::initializer_list<std::string_view> parts) const;
    bool timestamp_ok(std::string_view stamp, std::int64_t now) const;

    SrsOptions options_;
};

}  // namespace tern::delivery
