// AuthResult: the result words every mail authentication method shares (RFC 8601 section 2.7),
// so that SPF, DKIM, DMARC and ARC report in one vocabulary for Authentication-Results.
#pragma once

#include <optional>
#include <string_view>

namespace tern::mailauth {

enum class AuthResult {
    kNone,  // nothing to evaluate (no record, no signature)
    kPass,
    kFail,
    kSoftFail,   // SPF only
    kNeutral,    // SPF only
    kTempError,  // a temporary failure, usually DNS: trying later may give an answer
    kPermError,  // a permanent error in the published data (a bad record)
    kPolicy,     // DKIM: valid, but refused by local policy (RFC 8601 2.7.1)
};

// The RFC 8601 result keyword: "none", "pass", "fail", "softfail", "neutral", "temperror",
// "permerror", "policy".
std::string_view result_name(AuthResult result);

// The reverse of result_name; case-insensitive; nullopt for anything else.
std::optional<AuthResult> parse_result(std::string_view word);

}  // namespace tern::mailauth
