// The LIMITS grammar of RFC 9422 section 3 and the limit values of section 4, read leniently:
// runs of spaces are accepted between items, and a bad item never makes the session fail.
#include "smtp/limits.h"

#include <algorithm>
#include <optional>
#include <set>

#include "base/text.h"
#include "smtp/address.h"

namespace tern::smtp {
namespace {

// limit-name = 1*(ALPHA / DIGIT / "-" / "_")
bool name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

// limit-value = 1*(%x21-3A / %x3C-7E): any visible character but ";"
bool value_char(char c) {
    return c >= 0x21 && c <= 0x7E && c != ';';
}

// The values of MAILMAX, RCPTMAX and RCPTDOMAINMAX: 1*6DIGIT, and a limit of 0 means nothing.
std::optional<std::size_t> count_value(std::string_view v) {
    if (v.empty() || v.size() > 6) return std::nullopt;
    std::size_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (n == 0) return std::nullopt;
    return n;
}

std::size_t* slot_for(ServerLimits& limits, std::string_view name) {
    if (ascii_iequals(name, "MAILMAX")) return &limits.mail_max;
    if (ascii_iequals(name, "RCPTMAX")) return &limits.rcpt_max;
    if (ascii_iequals(name, "RCPTDOMAINMAX")) return &limits.rcpt_domain_max;
    return nullptr;
}

}  // namespace

ServerLimits parse_limits(std::string_view params) {
    ServerLimits out;
    std::size_t pos = 0;
    while (pos < params.size()) {
        if (params[pos] == ' ') {
            ++pos;
            continue;
        }
        auto end = std::min(params.find(' ', pos), params.size());
        std::string_view item = params.substr(pos, end - pos);
        pos = end;
        auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) return {};
        std::string_view name = item.substr(0, eq);
        std::string_view value = item.substr(eq + 1);
        if (!std::all_of(name.begin(), name.end(), name_char) ||
            !std::all_of(value.begin(), value.end(), value_char))
            return {};  // RFC 9422 section 3: a LIMITS list that does not parse is ignored
        std::size_t* slot = slot_for(out, name);
        auto n = count_value(value);
        if (slot && n) *slot = *slot == 0 ? *n : std::min(*slot, *n);
    }
    return out;
}

std::size_t recipients_per_transaction(std::span<const std::string> addresses, std::size_t ours,
                                       const ServerLimits& limits) {
    std::size_t most = addresses.size();
    if (ours != 0) most = std::min(most, ours);
    if (limits.rcpt_max != 0) most = std::min(most, limits.rcpt_max);
    if (limits.rcpt_domain_max == 0) return most;
    std::set<std::string> domains;
    for (std::size_t i = 0; i < most; ++i) {
        domains.insert(domain_of(addresses[i]));
        if (domains.size() > limits.rcpt_domain_max) return std::max<std::size_t>(i, 1);
    }
    return most;
}

}  // namespace tern::smtp
