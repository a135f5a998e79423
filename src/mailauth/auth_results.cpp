// The RFC 8601 section 2.2 grammar, read left to right with one character of look-ahead:
// CFWS (blanks, folding, nested comments with quoted pairs) wherever the grammar allows it;
// values as RFC 2045 tokens or quoted-strings; properties whose values may also be addresses.
// Nesting is counted, not recursed, so no input can exhaust the stack.
#include "mailauth/auth_results.h"

#include "base/text.h"
#include "mailauth/header_field.h"

namespace tern::mailauth {
namespace {

bool is_tspecial(char c) {
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}
bool is_ctl_or_space(char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F;
}
bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

class Reader {
  public:
    explicit Reader(std::string_view text) : s_(text) {}

    bool at_end() const { return i_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[i_]; }
    std::size_t position() const { return i_; }
    void rewind(std::size_t to) { i_ = to; }

    bool consume(char c) {
        if (peek() != c || at_end()) return false;
        ++i_;
        return true;
    }

    // Blanks, line folding and comments. The text of the first comment since clear_comment()
    // is kept (quoted pairs undone, nested parentheses kept). False for an unclosed comment.
    bool skip_cfws() {
        while (!at_end()) {
            char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                ++i_;
            } else if (c == '(') {
                if (!skip_comment()) return false;
            } else {
                break;
            }
        }
        return true;
    }

    void clear_comment() {
        comment_.clear();
        have_comment_ = false;
    }
    const std::string& comment() const { return comment_; }

    // RFC 2045 token: CHARs but SPACE, CTLs and tspecials (UTF-8 octets allowed, RFC 6532).
    std::optional<std::string> token() {
        std::size_t start = i_;
        while (!at_end() && !is_ctl_or_space(s_[i_]) && !is_tspecial(s_[i_]))
            ++i_;
        if (i_ == start) return std::nullopt;
        return std::string(s_.substr(start, i_ - start));
    }

    // quoted-string without its quotes, quoted pairs undone; nullopt when not closed.
    std::optional<std::string> quoted_string() {
        if (!consume('"')) return std::nullopt;
        std::string out;
        while (!at_end()) {
            char c = s_[i_++];
            if (c == '"') return out;
            if (c == '\\') {
                if (at_end()) return std::nullopt;
                c = s_[i_++];
            }
            if (c == '\r' || c == '\n') continue;  // folding inside the string
            out += c;
        }
        return std::nullopt;
    }

    std::optional<std::string> value() { return peek() == '"' ? quoted_string() : token(); }

    // Keyword (ldh-str): letters, digits and '-', starting and ending with a letter or digit.
    std::optional<std::string> keyword() {
        std::size_t start = i_;
        while (!at_end() && (is_alnum(s_[i_]) || s_[i_] == '-'))
            ++i_;
        std::string_view word = s_.substr(start, i_ - start);
        if (word.empty() || !is_alnum(word.front()) || !is_alnum(word.back())) {
            i_ = start;
            return std::nullopt;
        }
        return std::string(word);
    }

    std::optional<std::string> digits() {
        std::size_t start = i_;
        while (!at_end() && is_digit(s_[i_]))
            ++i_;
        if (i_ == start) return std::nullopt;
        return std::string(s_.substr(start, i_ - start));
    }

    // pvalue: a value, or [local-part] "@" domain-name. Read as a quoted-string (perhaps the
    // local-part of an address) or a run of printable characters other than the delimiters of
    // the surrounding grammar; '/' and '=' are accepted unquoted, as many signers write header.b.
    std::optional<std::string> pvalue() {
        std::string out;
        if (peek() == '"') {
            auto q = quoted_string();
            if (!q) return std::nullopt;
            out = *q;
            if (peek() != '@') return out;
        }
        std::size_t start = i_;
        while (!at_end() && !is_ctl_or_space(s_[i_]) &&
               std::string_view("();\"\\").find(s_[i_]) == std::string_view::npos)
            ++i_;
        if (i_ == start && out.empty()) return std::nullopt;
        return out + std::string(s_.substr(start, i_ - start));
    }

  private:
    bool skip_comment() {
        std::size_t depth = 0;
        std::string text;
        while (!at_end()) {
            char c = s_[i_++];
            if (c == '\\') {
                if (at_end()) return false;
                text += s_[i_++];
                continue;
            }
            if (c == '(' && depth++ == 0) continue;
            if (c == ')' && --depth == 0) {
                if (!have_comment_) {
                    comment_ = trim_blanks(text);
                    have_comment_ = true;
                }
                return true;
            }
            if (c == '\r' || c == '\n') continue;
            text += c;
        }
        return false;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string comment_;
    bool have_comment_ = false;
};

using Parsed = std::expected<AuthenticationResults, std::string>;

std::unexpected<std::string> error(const Reader& r, std::string_view expected) {
    return std::unexpected("expected " + std::string(expected) + " at offset " +
                           std::to_string(r.position()));
}

// resinfo after its ';': methodspec [reasonspec] *propspec, up to the next ';' or the end.
std::expected<ResultInfo, std::string> parse_resinfo(Reader& r) {
    ResultInfo info;
    if (!r.skip_cfws()) return error(r, "a closed comment");
    auto method = r.keyword();
    if (!method) return error(r, "a method");
    info.method = *method;
    if (!r.skip_cfws()) return error(r, "a closed comment");
    if (r.consume('/')) {
        if (!r.skip_cfws()) return error(r, "a closed comment");
        auto version = r.digits();
        if (!version) return error(r, "a method version");
        info.method_version = *version;
        if (!r.skip_cfws()) return error(r, "a closed comment");
    }
    if (!r.consume('=')) return error(r, "'=' after the method");
    if (!r.skip_cfws()) return error(r, "a closed comment");
    auto result = r.keyword();
    if (!result) return error(r, "a result");
    info.result = *result;
    r.clear_comment();
    if (!r.skip_cfws()) return error(r, "a closed comment");
    info.comment = r.comment();
    bool first = true;
    while (!r.at_end() && r.peek() != ';') {
        std::size_t start = r.position();
        auto ptype = r.keyword();
        if (!ptype) return error(r, "a property or ';'");
        if (!r.skip_cfws()) return error(r, "a closed comment");
        if (first && ascii_iequals(*ptype, "reason") && r.peek() == '=') {
            r.consume('=');
            if (!r.skip_cfws()) return error(r, "a closed comment");
            auto reason = r.value();
            if (!reason) return error(r, "a reason value");
            info.reason = *reason;
        } else {
            if (!r.consume('.')) {
                r.rewind(start);
                return error(r, "ptype.property=value");
            }
            if (!r.skip_cfws()) return error(r, "a closed comment");
            auto property = r.keyword();
            if (!property) return error(r, "a property name");
            if (!r.skip_cfws()) return error(r, "a closed comment");
            if (!r.consume('=')) return error(r, "'=' after the property");
            if (!r.skip_cfws()) return error(r, "a closed comment");
            auto value = r.pvalue();
            if (!value) return error(r, "a property value");
            info.properties.push_back({*ptype, *property, *value});
        }
        first = false;
        if (!r.skip_cfws()) return error(r, "a closed comment");
    }
    return info;
}

// authserv-id [CFWS authres-version]: the version is digits followed by the ';'.
std::expected<void, std::string> parse_head(Reader& r, AuthenticationResults& out) {
    if (!r.skip_cfws()) return error(r, "a closed comment");
    auto id = r.value();
    if (!id) return error(r, "an authserv-id");
    out.authserv_id = *id;
    if (!r.skip_cfws()) return error(r, "a closed comment");
    std::size_t before = r.position();
    if (auto version = r.digits()) {
        if (r.skip_cfws() && r.peek() == ';') {
            out.version = *version;
        } else {
            r.rewind(before);
        }
    }
    if (!r.consume(';')) return error(r, "';' after the authserv-id");
    return {};
}

}  // namespace

std::expected<AuthenticationResults, std::string> parse_authentication_results(
    std::string_view value) {
    Reader r(value);
    AuthenticationResults out;
    if (auto head = parse_head(r, out); !head) return std::unexpected(head.error());
    // no-result: "none" alone.
    std::size_t start = r.position();
    if (!r.skip_cfws()) return error(r, "a closed comment");
    if (auto word = r.keyword(); word && ascii_iequals(*word, "none")) {
        if (r.skip_cfws() && r.at_end()) return out;
    }
    r.rewind(start);
    while (true) {
        auto info = parse_resinfo(r);
        if (!info) return std::unexpected(info.error());
        out.results.push_back(std::move(*info));
        if (r.at_end()) return out;
        r.consume(';');
        if (!r.skip_cfws()) return error(r, "a closed comment");
        if (r.at_end()) return out;  // a trailing ';', which some writers leave
    }
}

std::optional<std::string> parse_authserv_id(std::string_view value) {
    Reader r(value);
    if (!r.skip_cfws()) return std::nullopt;
    return r.value();
}

bool claims_authserv_id(std::string_view raw, std::span<const std::string> ours) {
    auto value = header_value(raw, "Authentication-Results");
    if (!value) return false;
    auto id = parse_authserv_id(*value);
    if (!id) return false;
    for (const std::string& mine : ours)
        if (ascii_iequals(*id, mine)) return true;
    return false;
}

}  // namespace tern::mailauth
