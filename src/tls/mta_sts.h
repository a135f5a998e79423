// MTA-STS (RFC 8461) without I/O: the _mta-sts TXT record, the policy file served over HTTPS,
// and MX pattern matching. Both inputs come from the network and are parsed strictly.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::tls {

struct StsPolicy {
    enum class Mode { kEnforce, kTesting, kNone };
    Mode mode = Mode::kNone;
    std::vector<std::string> mx;  // patterns, lower-case: "mail.example.com", "*.example.net"
    std::int64_t max_age = 0;     // seconds the policy may be cached (at most 31557600)
};

std::string_view mode_name(StsPolicy::Mode mode);

// The policy file (RFC 8461 3.2): "key: value" lines, CRLF or LF. Needs version STSv1, a mode,
// max_age, and at least one mx unless the mode is none. Unknown keys are ignored.
std::expected<StsPolicy, std::string> parse_sts_policy(std::string_view text);

// The id of a TXT record "v=STSv1; id=...;" (RFC 8461 3.1), or nullopt if it is not one.
std::optional<std::string> parse_sts_record(std::string_view txt);

// RFC 8461 4.1: "mail.example.com" matches itself; "*.example.com" matches exactly one more
// label on the left. Case-insensitive; a trailing dot on `host` is ignored.
bool sts_mx_matches(std::string_view pattern, std::string_view host);
bool sts_mx_allowed(const StsPolicy& policy, std::string_view host);

}  // namespace tern::tls
