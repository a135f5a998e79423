// The DKIM-Signature header field (RFC 6376 section 3.5): parsing and validation of the tags
// of a received signature (section 6.1.1), and the text of a new one. Input is untrusted.
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

// Parses the value of a DKIM-Signature field (after the colon, folds included). Required tags
// v=1 a b bh d h s; h= must name From; i= must be in d= (or a subdomain of it); x= must come
// after t=; q= must offer dns/txt; unknown tags are ignored.
ParsedSignature parse_dkim_signature(std::string_view value);

// True for a name made of labels of letters, digits, '-' and '_' separated by dots, each of
// 1 to 63 octets, 253 in all: what d= and s= may hold for a DNS query to be made of them.
bool is_dns_name(std::string_view name);

}  // namespace tern::mailauth
