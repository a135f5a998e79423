// Account names and SASL identities: the one normalisation every lookup goes through, and the
// character checks that stand in for SASLprep (RFC 4013). Input is untrusted client text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace tern::auth {

// Longest SASL identity processed, in octets (RFC 4616 asks for at least 255).
inline constexpr std::size_t kMaxIdentity = 255;
// Longest account name: an RFC 5321 path (256 octets) without its angle brackets.
inline constexpr std::size_t kMaxAccountName = 254;
// Longest password accepted, in octets.
inline constexpr std::size_t kMaxPassword = 1024;

// True when `text` is well-formed UTF-8 without control characters (U+0000-001F, U+007F,
// U+0080-009F). This is the part of SASLprep Tern implements: no NFKC normalisation, no
// mapping of non-ASCII spaces or of characters "commonly mapped to nothing", no bidi checks.
// For ASCII text SASLprep changes nothing, so ASCII names and passwords behave exactly.
bool prep_acceptable(std::string_view text);

// A SASL identity as the account key it names: ASCII letters lower-cased in the whole address
// (local part included: Tern's accounts are case-insensitive). nullopt when empty, longer than
// kMaxIdentity or not prep_acceptable.
std::optional<std::string> normalize_identity(std::string_view text);

// An account name given to `tern user`: "local@domain" with a dot-string local part and a
// domain name (no quoted local parts, no address literals), at most kMaxAccountName octets.
// Returns the normalised name, or kInvalid saying what is wrong.
Result<std::string> parse_account_name(std::string_view text);

// A new password: 1 to kMaxPassword octets, prep_acceptable. kInvalid says what is wrong.
Result<void> check_password(std::string_view password);

}  // namespace tern::auth
