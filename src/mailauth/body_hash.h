// BodyHasher: the SHA-256 body hashes of DKIM and ARC signatures (RFC 6376 section 3.7), all
// computed in one pass over a body streamed in chunks. Signatures that share a
// canonicalisation share its work, and those that also share a length limit share a digest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/canonical.h"
#include "mailauth/sha256.h"

namespace tern::mailauth {

class BodyHasher {
  public:
    // Asks for the hash of the body canonicalised with `canon`, over its first `limit`
    // canonical octets (the whole of it when nullopt: l= absent). Returns the handle of that
    // digest; the same request gives the same handle. Only before the first feed().
    std::size_t request(Canon canon, std::optional<std::uint64_t> limit = std::nullopt);

    // The next chunk of the body (CRLF line ends, after dot-unstuffing); any size, even empty.
    void feed(std::string_view chunk);

    // The end of the body; then digest() and canonical_length() have their answers.
    void finish();

    // The 32-octet SHA-256 of the handle's canonical body prefix. Only after finish().
    const std::string& digest(std::size_t handle) const;

    // How many octets the whole canonical body has (to compare with l=). Only after finish().
    std::uint64_t canonical_length(std::size_t handle) const;

    // How many body octets went through feed().
    std::uint64_t raw_length() const { return raw_length_; }

  private:
    struct Digest {
        std::optional<std::uint64_t> limit;
        Sha256 hash;
        std::uint64_t hashed = 0;  // canonical octets given to `hash`
        std::string value;         // after finish()
    };
    struct Stream {
        explicit Stream(Canon c) : canon(c), canonicalizer(c) {}
        Canon canon;
        BodyCanonicalizer canonicalizer;
        std::uint64_t length = 0;  // canonical octets so far
        std::vector<Digest> digests;
    };
    struct Handle {
        std::size_t stream = 0;
        std::size_t digest = 0;
    };

    void hash(Stream& stream, std::string_view canonical);

    std::vector<Stream> streams_;
    std::vector<Handle> handles_;
    std::string buffer_;  // the canonical form of the current chunk
    std::uint64_t raw_length_ = 0;
    bool finished_ = false;
};

}  // namespace tern::mailauth
