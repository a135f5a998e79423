// A DKIM key fetched from the DNS (RFC 6376 section 6.1.2) and the checks between a signature
// and its key (section 6.1.2, RFC 8301 key sizes, RFC 8463 key types). Shared by DKIM and ARC
// (whose ARC-Message-Signature and ARC-Seal keys are DKIM keys).
#pragma once

#include <optional>
#include <string_view>

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

}  // namespace tern::mailauth
