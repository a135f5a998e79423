// The tag=value list parser of RFC 6376 section 3.2 and the helpers for the values it yields.
#include "mailauth/tag_list.h"

#include <cstdint>
#include <limits>

namespace tern::mailauth {
namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}
bool is_alpha(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The length of the folding white space at text[i]: WSP, or CRLF followed by WSP (or by the
// end of the text, so a field passed with its final CRLF still parses). 0 when there is none;
// -1 for a CR or LF that is not part of a fold.
int fws_length(std::string_view text, std::size_t i) {
    char c = text[i];
    if (is_wsp(c)) return 1;
    if (c != '\r' && c != '\n') return 0;
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        if (i + 2 == text.size() || is_wsp(text[i + 2])) return 2;
    }
    return -1;
}

// Moves `i` past folding white space; false on a CR or LF outside a fold.
bool skip_fws(std::string_view text, std::size_t& i) {
    while (i < text.size()) {
        int n = fws_length(text, i);
        if (n < 0) return false;
        if (n == 0) return true;
        i += static_cast<std::size_t>(n);
    }
    return true;
}

// VALCHAR (%x21-3A / %x3C-7E) or an octet of UTF-8 (RFC 8616).
bool is_value_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 0x21 && u <= 0x7E && c != ';') || u >= 0x80;
}

std::string_view trim_fws(std::string_view s) {
    auto blank = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && blank(s.back()))
        s.remove_suffix(1);
    return s;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

std::expected<std::vector<Tag>, std::string> parse_tag_list(std::string_view text) {
    std::vector<Tag> tags;
    std::size_t i = 0;
    while (true) {
        if (!skip_fws(text, i)) return std::unexpected("a line break outside folding white space");
        if (i == text.size()) break;
        if (text[i] == ';') {  // an empty entry
            ++i;
            continue;
        }
        std::size_t name_begin = i;
        if (!is_alpha(text[i])) return std::unexpected("a tag name must start with a letter");
        while (i < text.size() && (is_alpha(text[i]) || is_digit(text[i]) || text[i] == '_'))
            ++i;
        std::string_view name = text.substr(name_begin, i - name_begin);
        if (!skip_fws(text, i)) return std::unexpected("a line break outside folding white space");
        if (i == text.size() || text[i] != '=')
            return std::unexpected("tag " + std::string(name) + " has no '='");
        ++i;
        std::size_t raw_begin = i;
        while (i < text.size() && text[i] != ';') {
            int n = fws_length(text, i);
            if (n < 0) return std::unexpected("a line break outside folding white space");
            if (n == 0 && !is_value_char(text[i]))
                return std::unexpected("tag " + std::string(name) + " has a control character");
            i += n > 0 ? static_cast<std::size_t>(n) : 1;
        }
        for (const Tag& t : tags)
            if (t.name == name) return std::unexpected("tag " + std::string(name) + " is repeated");
        tags.push_back(Tag{name, trim_fws(text.substr(raw_begin, i - raw_begin)), raw_begin, i});
        if (i == text.size()) break;
        ++i;  // the ';'
    }
    return tags;
}

const Tag* find_tag(const std::vector<Tag>& tags, std::string_view name) {
    for (const Tag& t : tags)
        if (t.name == name) return &t;
    return nullptr;
}

std::string without_fws(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value)
        if (!is_wsp(c) && c != '\r' && c != '\n') out += c;
    return out;
}

bool is_single_token(std::string_view value) {
    for (char c : value)
        if (is_wsp(c) || c == '\r' || c == '\n') return false;
    return true;
}

std::vector<std::string_view> split_colon_list(std::string_view value) {
    std::vector<std::string_view> items;
    while (true) {
        auto colon = value.find(':');
        items.push_back(trim_fws(value.substr(0, colon)));
        if (colon == std::string_view::npos) break;
        value.remove_prefix(colon + 1);
    }
    return items;
}

std::optional<std::string> decode_dkim_quoted_printable(std::string_view value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (is_wsp(c) || c == '\r' || c == '\n') continue;
        if (c != '=') {
            out += c;
            continue;
        }
        if (i + 2 >= value.size()) return std::nullopt;
        int hi = hex_value(value[i + 1]);
        int lo = hex_value(value[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::optional<std::uint64_t> parse_decimal(std::string_view value, std::size_t max_digits) {
    if (value.empty() || value.size() > max_digits) return std::nullopt;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t n = 0;
    for (char c : value) {
        if (!is_digit(c)) return std::nullopt;
        auto d = static_cast<std::uint64_t>(c - '0');
        n = n > (kMax - d) / 10 ? kMax : n * 10 + d;
    }
    return n;
}

}  // namespace tern::mailauth
