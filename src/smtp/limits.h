// ServerLimits: the LIMITS EHLO keyword of RFC 9422 as a relaying client reads it from the next
// hop (MAILMAX, RCPTMAX, RCPTDOMAINMAX), and how many recipients fit in one transaction under it.
// The parameters are untrusted server text: anything malformed is ignored, never an error.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace tern::smtp {

// 0 = the server gave no (valid) value for that limit.
struct ServerLimits {
    std::size_t mail_max = 0;         // MAILMAX: transactions (MAIL commands) per connection
    std::size_t rcpt_max = 0;         // RCPTMAX: RCPT commands per transaction
    std::size_t rcpt_domain_max = 0;  // RCPTDOMAINMAX: distinct recipient domains per transaction

    bool operator==(const ServerLimits&) const = default;
};

// Reads the parameters after "LIMITS" (RFC 9422 section 3): name=value pairs separated by
// spaces. A list that breaks the grammar is ignored whole; a known limit whose value is not 1 to
// 6 digits above zero is ignored alone; unknown limits are ignored; names are case-insensitive;
// a limit given twice counts with its smaller value.
ServerLimits parse_limits(std::string_view params);

// How many of `addresses`, from the front, one transaction may carry: at most `ours` (0 = no
// limit of our own) and the server's RCPTMAX, with at most RCPTDOMAINMAX distinct domains. At
// least one when `addresses` is not empty.
std::size_t recipients_per_transaction(std::span<const std::string> addresses, std::size_t ours,
                                       const ServerLimits& limits);

}  // namespace tern::smtp
