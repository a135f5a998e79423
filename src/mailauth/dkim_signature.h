// The DKIM-Signature header field (RFC 6376 section 3.5) and its two ARC cousins, the
// ARC-Message-Signature and the ARC-Seal (RFC 8617 4.1.2, 4.1.3): parsing and validation of the
// tags of a received signature (RFC 6376 section 6.1.1). Input is untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/auth_result.h"
#include "mailauth/canonical.h"
#include "mailauth/dkim_keys.h"

namespace tern::mailauth {

// Which of the three tag-list signature fields a value comes from.
enum class SignatureField {
    kDkim,        // DKIM-Signature
    kArcMessage,  // ARC-Message-Signature: no v=, i= is the ARC instance, not the AUID
    kArcSeal,     // ARC-Seal: i= and cv=, no h= nor bh=, relaxed header canonicalisation
};

// The highest ARC instance (RFC 8617 section 4.2.1: i= runs from 1 to 50).
inline constexpr unsigned kMaxArcInstance = 50;

struct DkimSignature {
    Algorithm algorithm = Algorithm::kRsaSha256;  // a=
    Canon header_canon = Canon::kSimple;          // c=, before the '/'
    Canon body_canon = Canon::kSimple;            // c=, after it
    std::string domain;                           // d=, in lower case
    std::string selector;                         // s=, in lower case
    std::vector<std::string> signed_fields;       // h=, names as written
    std::string identity;                         // i=, decoded; "@" + d= when absent
    std::optional<std::uint64_t> body_length;     // l=, saturated at UINT64_MAX
    std::optional<std::int64_t> timestamp;        // t=, unix seconds
    std::optional<std::int64_t> expiration;       // x=, unix seconds
    std::string body_hash;                        // bh=, decoded
    std::string signature;                        // b=, decoded
    std::string signature_text;                   // b=, base64 without white space
    std::string algorithm_text;                   // a= as written (for reports)
    unsigned instance = 0;                        // ARC i= (1 to 50); 0 for DKIM
    std::string chain_validation;                 // ARC-Seal cv=, lower case: none/pass/fail

    // SELECTOR._domainkey.DOMAIN, the name of the key record.
    std::string key_name() const { return selector + "._domainkey." + domain; }
};

// Why a signature cannot be checked: neutral for a syntax or semantic error in the signature
// (RFC 8601 section 2.7.1), fail for rsa-sha1 (RFC 8301).
struct SignatureProblem {
    AuthResult result = AuthResult::kNeutral;
    std::string reason;
};

struct ParsedSignature {
    DkimSignature signature;  // as much as could be read when there is a problem
    std::optional<SignatureProblem> problem;
};

// Parses the value of a signature field (after the colon, folds included). DKIM-Signature:
// required tags v=1 a b bh d h s; h= must name From; i= must be in d= (or a subdomain of it);
// x= must come after t=; q= must offer dns/txt; unknown tags are ignored.
// ARC-Message-Signature: the same, but i= (an instance, 1 to 50) replaces v=, and h= may not
// name ARC-Seal. ARC-Seal: required i a b cv d s; cv= none, pass or fail; h= is refused; the
// header canonicalisation is always relaxed.
ParsedSignature parse_dkim_signature(std::string_view value,
                                     SignatureField field = SignatureField::kDkim);

// fail when the signature expired (x= more than `skew` seconds before `now`) or was made in
// the future (t= more than `skew` seconds after it); nullopt when its times are fine.
std::optional<SignatureProblem> check_signature_times(const DkimSignature& sig, std::int64_t now,
                                                      std::int64_t skew);

}  // namespace tern::mailauth
