// Envelope address grammar of RFC 5321 section 4.1.2 and RFC 6531 section 3.3.
// Parsing never allocates beyond the result and never reads past the given view.
#include "smtp/address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "base/text.h"

namespace tern::smtp {
namespace {

bool is_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
bool is_let_dig(unsigned char c) {
    return is_alpha(c) || is_digit(c);
}

// atext of RFC 5322 section 3.2.3.
bool is_atext(unsigned char c) {
    if (is_let_dig(c)) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '/':
        case '=':
        case '?':
        case '^':
        case '_':
        case '`':
        case '{':
        case '|':
        case '}':
        case '~':
            return true;
        default:
            return false;
    }
}

// Length of the UTF-8 sequence starting at s[i] if it is well formed and non-ASCII, else 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
        if (c == 0xED && b(1) > 0x9F) return 0;  // surrogates
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
        if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

bool valid_ipv4(std::string_view s) {
    // Snum "." Snum "." Snum "." Snum, each 0-255 with 1-3 digits.
    int parts = 0;
    std::size_t i = 0;
    while (true) {
        std::size_t start = i;
        int value = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < 3)
            value = value * 10 + (s[i++] - '0');
        if (i == start || value > 255) return false;
        ++parts;
        if (i == s.size()) return parts == 4;
        if (s[i] != '.' || parts == 4) return false;
        ++i;
    }
}

bool valid_address_literal(std::string_view lit) {
    if (lit.size() < 3 || lit.front() != '[' || lit.back() != ']') return false;
    std::string_view inner = lit.substr(1, lit.size() - 2);
    if (inner.size() > 5 && (inner.substr(0, 5) == "IPv6:" || inner.substr(0, 5) == "ipv6:")) {
        std::string addr(inner.substr(5));
        in6_addr out{};
        return inet_pton(AF_INET6, addr.c_str(), &out) == 1;
    }
    if (valid_ipv4(inner)) return true;
    // General-address-literal: Standardized-tag ":" 1*dcontent (dcontent = %d33-90 / %d94-126).
    auto colon = inner.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == inner.size()) return false;
    std::string_view tag = inner.substr(0, colon);
    if (!is_let_dig(tag.front()) || !is_let_dig(tag.back())) return false;
    for (unsigned char c : tag)
        if (!is_let_dig(c) && c != '-') return false;
    for (unsigned char c : inner.substr(colon + 1))
        if (c < 33 || c > 126 || (c >= 91 && c <= 93)) return false;
    return true;
}

// sub-domain = Let-dig [Ldh-str], or a U-label when allow_utf8.
bool valid_sub_domain(std::string_view label, bool allow_utf8) {
    if (label.empty() || label.size() > 63) return false;
    bool any_utf8 = false;
    for (std::size_t i = 0; i < label.size();) {
        unsigned char c = label[i];
        if (c >= 0x80) {
            if (!allow_utf8) return false;
            std::size_t n = utf8_sequence(label, i);
            if (n == 0) return false;
            any_utf8 = true;
            i += n;
            continue;
        }
        if (!is_let_dig(c) && c != '-') return false;
        ++i;
    }
    if (any_utf8) return true;
    return is_let_dig(label.front()) && is_let_dig(label.back());
}

bool valid_domain(std::string_view domain, bool allow_utf8) {
    if (domain.empty() || domain.size() > kMaxDomain) return false;
    std::size_t start = 0;
    while (true) {
        auto dot = domain.find('.', start);
        std::string_view label =
            domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (!valid_sub_domain(label, allow_utf8)) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

// Local-part = Dot-string / Quoted-string, matched at the start of `s`; returns its length or 0.
std::size_t match_local_part(std::string_view s, bool allow_utf8, bool& utf8) {
    if (s.empty()) return 0;
    if (s[0] == '"') {
        std::size_t i = 1;
        while (i < s.size()) {
            unsigned char c = s[i];
            if (c == '"') return i + 1;
            if (c == '\\') {
                if (i + 1 >= s.size()) return 0;
                unsigned char q = s[i + 1];
                if (q < 32 || q > 126) return 0;  // quoted-pairSMTP = %d92 %d32-126
                i += 2;
                continue;
            }
            if (c >= 0x80) {
                std::size_t n = allow_utf8 ? utf8_sequence(s, i) : 0;
                if (n == 0) return 0;
                utf8 = true;
                i += n;
                continue;
            }
            if (c < 32 || c > 126) return 0;  // qtextSMTP = %d32-33 / %d35-91 / %d93-126
            ++i;
        }
        return 0;
    }
    std::size_t i = 0;
    bool atom_empty = true;
    while (i < s.size()) {
        unsigned char c = s[i];
        if (c == '.') {
            if (atom_empty) return 0;  // leading or doubled dot
            atom_empty = true;
            ++i;
            continue;
        }
        if (c >= 0x80) {
            std::size_t n = allow_utf8 ? utf8_sequence(s, i) : 0;
            if (n == 0) break;
            utf8 = true;
            atom_empty = false;
            i += n;
            continue;
        }
        if (!is_atext(c)) break;
        atom_empty = false;
        ++i;
    }
    if (atom_empty) return 0;  // empty, or a trailing dot
    return i;
}

bool has_non_ascii(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Parses "<" [A-d-l ":"] Mailbox ">" or, when allow_null, "<>".
std::expected<std::optional<Mailbox>, PathError> parse_path(std::string_view& text, bool allow_null,
                                                            bool allow_utf8, bool allow_postmaster,
                                                            bool& bare_postmaster) {
    bare_postmaster = false;
    if (text.empty() || text[0] != '<') return std::unexpected(PathError::kSyntax);
    auto close = text.find('>');
    if (close == std::string_view::npos) return std::unexpected(PathError::kSyntax);
    // A '>' may sit inside a quoted local part; find the closing bracket outside quotes.
    {
        bool in_quote = false;
        close = std::string_view::npos;
        for (std::size_t i = 1; i < text.size(); ++i) {
            char c = text[i];
            if (in_quote && c == '\\') {
                ++i;
                continue;
            }
            if (c == '"') in_quote = !in_quote;
            if (!in_quote && c == '>') {
                close = i;
                break;
            }
        }
        if (close == std::string_view::npos) return std::unexpected(PathError::kSyntax);
    }
    std::string_view inner = text.substr(1, close - 1);
    if (close + 1 > kMaxPath) return std::unexpected(PathError::kTooLong);
    if (inner.empty()) {
        if (!allow_null) return std::unexpected(PathError::kSyntax);
        text.remove_prefix(close + 1);
        return std::optional<Mailbox>{};
    }
    bool non_ascii = has_non_ascii(inner);
    if (non_ascii && !allow_utf8) {
        // Report a non-ASCII address as such only when it would parse with SMTPUTF8.
        std::string_view probe = text;
        bool ignored = false;
        if (parse_path(probe, allow_null, true, allow_postmaster, ignored))
            return std::unexpected(PathError::kNonAscii);
        return std::unexpected(PathError::kSyntax);
    }
    // A-d-l: "@" Domain *("," "@" Domain) ":"
    if (inner[0] == '@') {
        auto colon = inner.find(':');
        if (colon == std::string_view::npos) return std::unexpected(PathError::kSyntax);
        std::string_view adl = inner.substr(0, colon);
        std::size_t start = 0;
        while (start < adl.size()) {
            auto comma = adl.find(',', start);
            std::string_view hop =
                adl.substr(start, comma == std::string_view::npos ? comma : comma - start);
            if (hop.size() < 2 || hop[0] != '@' ||
                !valid_domain_or_literal(hop.substr(1), allow_utf8))
                return std::unexpected(PathError::kSyntax);
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        inner.remove_prefix(colon + 1);
    }
    if (allow_postmaster && inner.size() == 10) {
        if (ascii_iequals(inner, "postmaster")) {
            bare_postmaster = true;
            text.remove_prefix(close + 1);
            return std::optional<Mailbox>{Mailbox{std::string(inner), "", false}};
        }
    }
    auto mailbox = parse_mailbox(inner, allow_utf8);
    if (!mailbox) return std::unexpected(mailbox.error());
    text.remove_prefix(close + 1);
    return std::optional<Mailbox>{std::move(*mailbox)};
}

}  // namespace

std::string Mailbox::str() const {
    if (domain.empty()) return local;
    return local + "@" + domain;
}

std::string Mailbox::unquoted_local() const {
    if (local.size() < 2 || local.front() != '"') return local;
    std::string out;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
        if (local[i] == '\\' && i + 2 < local.size()) ++i;
        out += local[i];
    }
    return out;
}

std::string Mailbox::domain_lower() const {
    if (!domain.empty() && domain.front() == '[') return domain;
    return ascii_lower(domain);
}

std::string ReversePath::str() const {
    return mailbox ? "<" + mailbox->str() + ">" : "<>";
}

std::string ForwardPath::str() const {
    return "<" + mailbox.str() + ">";
}

std::expected<Mailbox, PathError> parse_mailbox(std::string_view text, bool allow_utf8) {
    bool utf8 = false;
    std::size_t n = match_local_part(text, allow_utf8, utf8);
    if (n == 0 || n >= text.size() || text[n] != '@') {
        if (!allow_utf8 && has_non_ascii(text) && parse_mailbox(text, true))
            return std::unexpected(PathError::kNonAscii);
        return std::unexpected(PathError::kSyntax);
    }
    std::string_view local = text.substr(0, n);
    std::string_view domain = text.substr(n + 1);
    if (!valid_domain_or_literal(domain, allow_utf8)) {
        if (!allow_utf8 && has_non_ascii(domain) && valid_domain_or_literal(domain, true))
            return std::unexpected(PathError::kNonAscii);
        return std::unexpected(PathError::kSyntax);
    }
    if (local.size() > kMaxLocalPart || domain.size() > kMaxDomain)
        return std::unexpected(PathError::kTooLong);
    utf8 = utf8 || has_non_ascii(domain);
    return Mailbox{std::string(local), std::string(domain), utf8};
}

std::expected<ReversePath, PathError> parse_reverse_path(std::string_view& text, bool allow_utf8) {
    bool postmaster = false;
    auto path = parse_path(text, true, allow_utf8, false, postmaster);
    if (!path) return std::unexpected(path.error());
    return ReversePath{std::move(*path)};
}

std::expected<ForwardPath, PathError> parse_forward_path(std::string_view& text, bool allow_utf8) {
    bool postmaster = false;
    auto path = parse_path(text, false, allow_utf8, true, postmaster);
    if (!path) return std::unexpected(path.error());
    return ForwardPath{std::move(**path), postmaster};
}

bool valid_domain_or_literal(std::string_view domain, bool allow_utf8) {
    if (!domain.empty() && domain.front() == '[') return valid_address_literal(domain);
    return valid_domain(domain, allow_utf8);
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = utf8_sequence(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

bool is_ascii(std::string_view s) {
    return !has_non_ascii(s);
}

std::string domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : ascii_lower(address.substr(at + 1));
}

}  // namespace tern::smtp
