// AuthResult names as RFC 8601 registers them.
#include "mailauth/auth_result.h"

#include <array>
#include <utility>

#include "base/text.h"

namespace tern::mailauth {
namespace {

constexpr std::array<std::pair<AuthResult, std::string_view>, 8> kNames{{
    {AuthResult::kNone, "none"},
    {AuthResult::kPass, "pass"},
    {AuthResult::kFail, "fail"},
    {AuthResult::kSoftFail, "softfail"},
    {AuthResult::kNeutral, "neutral"},
    {AuthResult::kTempError, "temperror"},
    {AuthResult::kPermError, "permerror"},
    {AuthResult::kPolicy, "policy"},
}};

}  // namespace

std::string_view result_name(AuthResult result) {
    for (const auto& [r, name] : kNames)
        if (r == result) return name;
    return "none";
}

std::optional<AuthResult> parse_result(std::string_view word) {
    for (const auto& [r, name] : kNames)
        if (ascii_iequals(word, name)) return r;
    return std::nullopt;
}

}  // namespace tern::mailauth
