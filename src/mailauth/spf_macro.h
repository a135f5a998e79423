// SPF macros (RFC 7208 section 7): the syntax of macro-strings and explain-strings, and their
// expansion from the values of one check_host() evaluation. Input comes from DNS (untrusted).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "mailauth/spf_address.h"

namespace tern::mailauth {

// Where a string appears: domain-specs and unknown modifiers take the letters s l o d i p h v;
// the explanation text fetched for exp= also takes c r t and spaces (section 7.1).
enum class MacroUse { kDomain, kExplanation };

// What the macro letters stand for during one evaluation (section 7.3).
struct MacroValues {
    std::string sender;         // s: <sender>, "postmaster@..." when it had no local-part
    std::string local_part;     // l
    std::string sender_domain;  // o
    std::string domain;         // d: the <domain> of the current check_host()
    IpAddress ip;               // i, c, v
    std::string helo;           // h
    std::string validated;      // p: the validated name of the IP, or "unknown"
    std::string receiver;       // r: the host doing the check
    std::int64_t now = 0;       // t: unix seconds
};

// Parses `text` as section 7.1 says; kInvalid with the reason when it is not a macro-string
// (kDomain) or an explain-string (kExplanation).
[[nodiscard]] Result<void> check_macros(std::string_view text, MacroUse use);

// True when `text` ends with a macro-expand ("%{...}", "%%", "%_" or "%-"): the other form
// of a domain-spec's domain-end.
bool ends_with_macro(std::string_view text);

// True when `text` names the p macro, whose value needs DNS lookups before expansion.
bool uses_validated_name(std::string_view text);

// The expansion of `text`: kInvalid as check_macros says. Upper-case letters are URL-escaped.
[[nodiscard]] Result<std::string> expand_macros(std::string_view text, MacroUse use,
                                                const MacroValues& values);

}  // namespace tern::mailauth
