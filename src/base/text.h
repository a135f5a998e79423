// ASCII text helpers for the parsers of configuration files, DNS names and protocol words:
// case mapping that never touches non-ASCII octets, and trimming of blanks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern {

// A copy with ASCII A-Z mapped to a-z (or the reverse); other octets unchanged.
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

// True when `a` and `b` are equal but for the case of ASCII letters. Inline: the command
// parser calls it for every verb and parameter.
inline bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// `s` without spaces and tabs at either end, and without a trailing CR: a view into `s`,
// so `s` must outlive it.
[[nodiscard]] std::string_view trim_blanks(std::string_view s);
// `in` with &, <, >, " and ' as HTML entities, appended to `out`; or returned.
void append_html_escaped(std::string_view in, std::string& out);
std::string html_escape(std::string_view in);

// `s` without spaces, tabs, CRs and LFs at either end (a view into `s`).
[[nodiscard]] std::string_view trim_space(std::string_view s);

// A DNS name of letters, digits, '-' and '_' in labels of 1 to 63 octets, at most 253 in all,
// with no empty label (so no leading, trailing or double dot).
bool is_dns_name(std::string_view name);

// The words of `s` between runs of spaces and tabs: views into `s`.
std::vector<std::string_view> split_blanks(std::string_view s);

// Each octet of `bytes` as two lower-case hexadecimal digits (digests, random tokens).
std::string hex_lower(std::string_view bytes);

}  // namespace tern
