// Parsing of SPF records by the ABNF of RFC 7208 section 12: terms split on spaces, a term
// is a modifier when '=' follows its name before any ':' or '/' (section 4.6.1), mechanisms by
// section 5, redirect= and exp= at most once each (section 6), unknown modifiers checked too.
#include "mailauth/spf_record.h"

#include <array>
#include <utility>

#include "base/text.h"
#include "mailauth/spf_macro.h"

namespace tern::mailauth {
namespace {

constexpr std::string_view kVersion = "v=spf1";

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

std::unexpected<Error> invalid(std::string why) {
    return fail(ErrorCode::kInvalid, std::move(why));
}

constexpr std::array<std::pair<std::string_view, SpfMechanism>, 8> kMechanisms{{
    {"all", SpfMechanism::kAll},
    {"include", SpfMechanism::kInclude},
    {"a", SpfMechanism::kA},
    {"mx", SpfMechanism::kMx},
    {"ptr", SpfMechanism::kPtr},
    {"ip4", SpfMechanism::kIp4},
    {"ip6", SpfMechanism::kIp6},
    {"exists", SpfMechanism::kExists},
}};

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
    if (label.empty()) return false;
    bool alpha = false;
    bool dash = false;
    for (char c : label) {
        if (c == '-') {
            dash = true;
        } else if (!is_alnum(c)) {
            return false;
        } else if (is_alpha(c)) {
            alpha = true;
        }
    }
    if (!dash) return alpha;
    return is_alnum(label.front()) && is_alnum(label.back());
}

// ip4-cidr-length and ip6-cidr-length without the slash: "0" / %x31-39 0*1DIGIT (or 0*2DIGIT
// for IPv6), no leading zero, at most `max`.
std::optional<unsigned> parse_cidr(std::string_view digits, unsigned max) {
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
    unsigned value = 0;
    for (char c : digits) {
        if (!is_digit(c)) return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > max) return std::nullopt;
    return value;
}

// ip4-network: four qnums, each 0-255 without leading zeros.
std::optional<IpAddress> parse_ip4_network(std::string_view text) {
    std::string octets;
    for (int i = 0; i < 4; ++i) {
        std::size_t end = i < 3 ? text.find('.') : text.size();
        if (end == std::string_view::npos) return std::nullopt;
        auto value = parse_cidr(text.substr(0, end), 255);
        if (!value) return std::nullopt;
        octets += static_cast<char>(*value);
        text.remove_prefix(i < 3 ? end + 1 : end);
    }
    return IpAddress::from_bytes(octets);
}

// The "/digits" at the end of `text`, if any: the position of the slash.
std::optional<std::size_t> trailing_slash_number(std::string_view text) {
    std::size_t i = text.size();
    while (i > 0 && is_digit(text[i - 1]))
        --i;
    if (i == text.size() || i == 0 || text[i - 1] != '/') return std::nullopt;
    return i - 1;
}

// Splits [":" domain-spec] [dual-cidr-length] of a and mx (section 5.3, 5.4).
Result<void> parse_dual_cidr(std::string_view rest, SpfDirective& d) {
    if (auto slash = trailing_slash_number(rest)) {
        std::string_view number = rest.substr(*slash + 1);
        if (*slash > 0 && rest[*slash - 1] == '/') {
            auto v6 = parse_cidr(number, 128);
            if (!v6) return invalid("bad IPv6 CIDR length in '" + d.text + "'");
            d.cidr6 = *v6;
            rest = rest.substr(0, *slash - 1);
            if (auto s4 = trailing_slash_number(rest)) {
                auto v4 = parse_cidr(rest.substr(*s4 + 1), 32);
                if (!v4) return invalid("bad IPv4 CIDR length in '" + d.text + "'");
                d.cidr4 = *v4;
                rest = rest.substr(0, *s4);
            }
        } else {
            auto v4 = parse_cidr(number, 32);
            if (!v4) return invalid("bad IPv4 CIDR length in '" + d.text + "'");
            d.cidr4 = *v4;
            rest = rest.substr(0, *slash);
        }
    }
    if (rest.empty()) return {};
    if (rest[0] != ':') return invalid("bad mechanism '" + d.text + "'");
    d.domain_spec = std::string(rest.substr(1));
    if (auto ok = check_domain_spec(d.domain_spec); !ok)
        return invalid("bad domain-spec in '" + d.text + "': " + ok.error().message);
    return {};
}

// ":" domain-spec, required (include, exists) or optional (ptr).
Result<void> parse_target(std::string_view rest, SpfDirective& d, bool required) {
    if (rest.empty() && !required) return {};
    if (rest.empty() || rest[0] != ':') return invalid("bad mechanism '" + d.text + "'");
    d.domain_spec = std::string(rest.substr(1));
    if (auto ok = check_domain_spec(d.domain_spec); !ok)
        return invalid("bad domain-spec in '" + d.text + "': " + ok.error().message);
    return {};
}

// ":" ip-network [ "/" cidr ] of ip4 and ip6 (section 5.6).
Result<void> parse_network(std::string_view rest, SpfDirective& d) {
    bool v6 = d.mechanism == SpfMechanism::kIp6;
    if (rest.empty() || rest[0] != ':') return invalid("bad mechanism '" + d.text + "'");
    rest.remove_prefix(1);
    std::size_t slash = rest.find('/');
    std::string_view network = rest.substr(0, slash);
    auto address = v6 ? IpAddress::parse_ipv6(network) : parse_ip4_network(network);
    if (!address) return invalid("bad network in '" + d.text + "'");
    d.network = *address;
    if (slash == std::string_view::npos) return {};
    auto length = parse_cidr(rest.substr(slash + 1), v6 ? 128 : 32);
    if (!length) return invalid("bad CIDR length in '" + d.text + "'");
    (v6 ? d.cidr6 : d.cidr4) = *length;
    return {};
}

Result<SpfDirective> parse_directive(std::string_view term) {
    SpfDirective d;
    d.text = std::string(term);
    switch (term[0]) {
        case '+':
            d.qualifier = SpfQualifier::kPass;
            break;
        case '-':
            d.qualifier = SpfQualifier::kFail;
            break;
        case '~':
            d.qualifier = SpfQualifier::kSoftFail;
            break;
        case '?':
            d.qualifier = SpfQualifier::kNeutral;
            break;
        default:
            break;
    }
    if (std::string_view("+-~?").find(term[0]) != std::string_view::npos) term.remove_prefix(1);
    std::size_t end = term.find_first_of(":/");
    std::string_view name = term.substr(0, end);
    std::string_view rest = end == std::string_view::npos ? "" : term.substr(end);
    bool known = false;
    for (const auto& [n, m] : kMechanisms) {
        if (ascii_iequals(name, n)) {
            d.mechanism = m;
            known = true;
        }
    }
    if (!known) return invalid("unknown mechanism '" + d.text + "'");
    Result<void> ok;
    switch (d.mechanism) {
        case SpfMechanism::kAll:
            if (!rest.empty()) return invalid("bad mechanism '" + d.text + "'");
            break;
        case SpfMechanism::kInclude:
        case SpfMechanism::kExists:
            ok = parse_target(rest, d, true);
            break;
        case SpfMechanism::kPtr:
            ok = parse_target(rest, d, false);
            break;
        case SpfMechanism::kA:
        case SpfMechanism::kMx:
            ok = parse_dual_cidr(rest, d);
            break;
        case SpfMechanism::kIp4:
        case SpfMechanism::kIp6:
            ok = parse_network(rest, d);
            break;
    }
    if (!ok) return std::unexpected(ok.error());
    return d;
}

// name "=" value, with name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); nullopt when the term
// is not a modifier.
std::optional<std::pair<std::string_view, std::string_view>> split_modifier(std::string_view term) {
    if (!is_alpha(term[0])) return std::nullopt;
    std::size_t i = 1;
    while (i < term.size() &&
           (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.'))
        ++i;
    if (i == term.size() || term[i] != '=') return std::nullopt;
    return std::pair{term.substr(0, i), term.substr(i + 1)};
}

Result<void> add_modifier(std::string_view name, std::string_view value, SpfRecord& record) {
    bool redirect = ascii_iequals(name, "redirect");
    if (redirect || ascii_iequals(name, "exp")) {
        auto& slot = redirect ? record.redirect : record.exp;
        if (slot) return invalid("more than one " + std::string(name) + "= modifier");
        if (auto ok = check_domain_spec(value); !ok)
            return invalid("bad domain-spec in " + std::string(name) + "=: " + ok.error().message);
        slot = std::string(value);
        return {};
    }
    if (auto ok = check_macros(value, MacroUse::kDomain); !ok)
        return invalid("bad modifier " + std::string(name) + "=: " + ok.error().message);
    return {};
}

}  // namespace

bool SpfDirective::needs_dns() const {
    switch (mechanism) {
        case SpfMechanism::kInclude:
        case SpfMechanism::kA:
        case SpfMechanism::kMx:
        case SpfMechanism::kPtr:
        case SpfMechanism::kExists:
            return true;
        default:
            return false;
    }
}

bool is_spf_record(std::string_view txt) {
    if (txt.size() < kVersion.size() || !ascii_iequals(txt.substr(0, kVersion.size()), kVersion))
        return false;
    return txt.size() == kVersion.size() || txt[kVersion.size()] == ' ';
}

Result<SpfRecord> parse_spf_record(std::string_view txt) {
    if (!is_spf_record(txt)) return invalid("not an SPF version 1 record");
    for (char c : txt)
        if (c < 0x20 || c > 0x7e)
            return invalid("character " + std::to_string(static_cast<unsigned char>(c)) +
                           " in the record (only printable ASCII is allowed)");
    txt.remove_prefix(kVersion.size());
    SpfRecord record;
    while (!txt.empty()) {
        std::size_t start = txt.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        txt.remove_prefix(start);
        std::size_t end = txt.find(' ');
        std::string_view term = txt.substr(0, end);
        txt.remove_prefix(term.size());
        if (auto modifier = split_modifier(term)) {
            if (auto ok = add_modifier(modifier->first, modifier->second, record); !ok)
                return std::unexpected(ok.error());
            continue;
        }
        auto directive = parse_directive(term);
        if (!directive) return std::unexpected(directive.error());
        record.directives.push_back(std::move(*directive));
    }
    return record;
}

Result<void> check_domain_spec(std::string_view spec) {
    if (spec.empty()) return invalid("empty domain-spec");
    if (auto ok = check_macros(spec, MacroUse::kDomain); !ok) return ok;
    if (ends_with_macro(spec)) return {};
    std::string_view body = spec;
    if (body.back() == '.') body.remove_suffix(1);
    std::size_t dot = body.rfind('.');
    if (dot == std::string_view::npos || !is_toplabel(body.substr(dot + 1)))
        return invalid("'" + std::string(spec) + "' does not end in a top-level label");
    return {};
}

}  // namespace tern::mailauth
