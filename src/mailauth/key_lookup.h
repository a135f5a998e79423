// A DKIM key fetched from the DNS (RFC 6376 section 6.1.2) and the checks between a signature
// and its key (section 6.1.2, RFC 8301 key sizes, RFC 8463 key types). Shared by DKIM and ARC
// (whose ARC-Message-Signature and ARC-Seal keys are DKIM keys).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/answer.h"
#include "mailauth/dkim_keys.h"
#include "mailauth/dkim_signature.h"
#include "mailauth/key_record.h"

namespace tern::mailauth {

struct KeyLimits {
    int min_rsa_bits = 1024;  // RFC 8301: smaller RSA keys make no valid signature
    int max_rsa_bits = 8192;  // a bound on what a hostile key record can make us compute
};

struct FetchedKey {
    std::optional<KeyRecord> record;          // the first record that parses
    std::optional<PublicKey> key;             // the record's key, when it has a usable one
    std::optional<SignatureProblem> problem;  // set when there is no usable record
};

// What the answer to the TXT query for `name` (SELECTOR._domainkey.DOMAIN) yields: temperror
// for a DNS failure, permerror when there is no record or none that parses. Records that do
// not parse are skipped when another one does (RFC 6376 leaves the choice to the verifier).
FetchedKey key_from_answer(const dns::Answer& answer, std::string_view name);

// Whether `key` may verify a signature made with `algorithm` by `domain` for `identity` (""
// when the signature has no identity, as in ARC): fail for a revoked key or one whose size is
// outside `limits`; permerror for a key of the other type, h= without sha256, s= not for
// email, or t=s with an identity in a subdomain. nullopt when the key may be used.
std::optional<SignatureProblem> check_key(const FetchedKey& key, Algorithm algorithm,
                                          std::string_view domain, std::string_view identity,
                                          const KeyLimits& limits);

// The body hash a signature is checked against: the digest of the canonical body (cut at l=
// when the signature has one) and the length of the whole canonical body.
struct BodyDigest {
    const std::string& digest;
    std::uint64_t canonical_length = 0;
};

// Judges a signature whose key was fetched (DKIM-Signature, ARC-Message-Signature, ARC-Seal):
// the key fits it (check_key), l= is not longer than the body, the body hash matches (not for
// an ARC-Seal, which has none: `body` null), and b= verifies over `header_digest`. nullopt
// when it does; else fail, permerror or temperror with the reason.
std::optional<SignatureProblem> check_signature(const FetchedKey& key, const DkimSignature& sig,
                                                std::string_view header_digest,
                                                const BodyDigest* body, const KeyLimits& limits);

// The key records a verifier needs, each asked once however many signatures name it: the
// bookkeeping behind next_query() and feed() of the LookupDriven protocol.
class KeyRequests {
  public:
    // The index of the key record at `name` (SELECTOR._domainkey.DOMAIN); the same name gives
    // the same index.
    std::size_t want(std::string name);
    std::size_t size() const { return keys_.size(); }

    // The TXT query for key `index` the first time; nullopt once it was asked.
    std::optional<dns::Query> ask(std::size_t index);

    // The answer to the query ask() returned last; ignored when none is waiting.
    void feed(const dns::Answer& answer);

    bool answered(std::size_t index) const { return keys_[index].answered; }
    const FetchedKey& fetched(std::size_t index) const { return keys_[index].fetched; }

  private:
    struct Key {
        std::string name;
        bool asked = false;
        bool answered = false;
        FetchedKey fetched;
    };
    std::vector<Key> keys_;
    std::optional<std::size_t> asking_;
};

}  // namespace tern::mailauth
