// Macro-strings of RFC 7208 section 7.1, walked once by one tokenizer that both the syntax check
// and the expansion (section 7.3: transformers, delimiters, URL escaping) are built on.
#include "mailauth/spf_macro.h"

#include <algorithm>
#include <vector>

#include "base/text.h"

namespace tern::mailauth {
namespace {

// One macro-expand "%{" letter transformers delimiters "}".
struct Macro {
    char letter = 0;     // as written: upper case asks for URL escaping
    unsigned parts = 0;  // 0 = all
    bool reverse = false;
    std::string_view delimiters;  // "" = "."
};

constexpr std::string_view kDelimiters = ".-+,/_=";
constexpr unsigned kMaxParts = 1000;  // more than any value has; larger counts mean "all"

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool letter_allowed(char letter, MacroUse use) {
    char l = static_cast<char>(letter | 0x20);
    if (std::string_view("slodiphv").find(l) != std::string_view::npos) return true;
    return use == MacroUse::kExplanation &&
           std::string_view("crt").find(l) != std::string_view::npos;
}

// Reads "{...}" after the '%' at text[0]; advances `text` past it.
Result<Macro> read_macro(std::string_view& text, MacroUse use) {
    std::size_t close = text.find('}');
    if (close == std::string_view::npos) return fail(ErrorCode::kInvalid, "unterminated macro");
    std::string_view body = text.substr(2, close - 2);
    text.remove_prefix(close + 1);
    Macro m;
    if (body.empty()) return fail(ErrorCode::kInvalid, "empty macro %{}");
    m.letter = body[0];
    if (!letter_allowed(m.letter, use))
        return fail(ErrorCode::kInvalid,
                    "macro letter " + std::string(1, m.letter) + " not allowed");
    body.remove_prefix(1);
    bool digits = false;
    unsigned parts = 0;
    while (!body.empty() && is_digit(body[0])) {
        digits = true;
        parts = std::min(kMaxParts, parts * 10 + static_cast<unsigned>(body[0] - '0'));
        body.remove_prefix(1);
    }
    if (digits && parts == 0) return fail(ErrorCode::kInvalid, "macro part count of zero");
    m.parts = parts;
    if (!body.empty() && (body[0] == 'r' || body[0] == 'R')) {
        m.reverse = true;
        body.remove_prefix(1);
    }
    for (char c : body)
        if (kDelimiters.find(c) == std::string_view::npos)
            return fail(ErrorCode::kInvalid, "bad macro delimiter " + std::string(1, c));
    m.delimiters = body;
    return m;
}

// Walks `text`, calling literal(string_view, bool escape) for plain text and for "%%", "%_" and
// "%-" (escape = true), and on_macro(const Macro&) for each "%{...}".
template <class Literal, class OnMacro>
Result<void> walk(std::string_view text, MacroUse use, Literal&& literal, OnMacro&& on_macro) {
    while (!text.empty()) {
        if (text[0] != '%') {
            std::size_t end = text.find('%');
            std::string_view run = text.substr(0, end);
            for (char r : run)
                if (!((r >= 0x21 && r <= 0x7e) || (r == ' ' && use == MacroUse::kExplanation)))
                    return fail(ErrorCode::kInvalid,
                                "character " + std::to_string(static_cast<unsigned char>(r)) +
                                    " not allowed");
            literal(run, false);
            text.remove_prefix(run.size());
            continue;
        }
        if (text.size() < 2) return fail(ErrorCode::kInvalid, "'%' at the end");
        switch (text[1]) {
            case '%':
                literal("%", true);
                text.remove_prefix(2);
                continue;
            case '_':
                literal(" ", true);
                text.remove_prefix(2);
                continue;
            case '-':
                literal("%20", true);
                text.remove_prefix(2);
                continue;
            case '{': {
                auto m = read_macro(text, use);
                if (!m) return std::unexpected(m.error());
                on_macro(*m);
                continue;
            }
            default:
                return fail(ErrorCode::kInvalid, "'%' followed by " + std::string(1, text[1]));
        }
    }
    return {};
}

std::string raw_value(char letter, const MacroValues& v) {
    switch (letter | 0x20) {
        case 's':
            return v.sender;
        case 'l':
            return v.local_part;
        case 'o':
            return v.sender_domain;
        case 'd':
            return v.domain;
        case 'i':
            return v.ip.dotted();
        case 'p':
            return v.validated;
        case 'h':
            return v.helo;
        case 'v':
            return v.ip.is_v6() ? "ip6" : "in-addr";
        case 'c':
            return v.ip.str();
        case 'r':
            return v.receiver;
        case 't':
            return std::to_string(v.now);
        default:
            return {};
    }
}

// Splits on the delimiters, reverses, keeps the rightmost parts, joins with '.' (section 7.3).
std::string transform(std::string_view value, const Macro& m) {
    std::string_view delimiters = m.delimiters.empty() ? "." : m.delimiters;
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
            parts.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    if (m.reverse) std::reverse(parts.begin(), parts.end());
    std::size_t first = 0;
    if (m.parts != 0 && m.parts < parts.size()) first = parts.size() - m.parts;
    std::string out;
    for (std::size_t i = first; i < parts.size(); ++i) {
        if (i != first) out += '.';
        out += parts[i];
    }
    return out;
}

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string url_escape(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                          (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 0x0f];
        }
    }
    return out;
}

}  // namespace

Result<void> check_macros(std::string_view text, MacroUse use) {
    return walk(
        text, use, [](std::string_view, bool) {}, [](const Macro&) {});
}

bool ends_with_macro(std::string_view text) {
    bool last = false;
    auto ok = walk(
        text, MacroUse::kExplanation, [&](std::string_view, bool escape) { last = escape; },
        [&](const Macro&) { last = true; });
    return ok && last;
}

bool uses_validated_name(std::string_view text) {
    bool found = false;
    auto ok = walk(
        text, MacroUse::kExplanation, [](std::string_view, bool) {},
        [&](const Macro& m) { found = found || (m.letter | 0x20) == 'p'; });
    return ok && found;
}

Result<std::string> expand_macros(std::string_view text, MacroUse use, const MacroValues& values) {
    std::string out;
    auto ok = walk(
        text, use, [&](std::string_view s, bool) { out += s; },
        [&](const Macro& m) {
            std::string value = transform(raw_value(m.letter, values), m);
            bool upper = m.letter >= 'A' && m.letter <= 'Z';
            out += upper ? url_escape(value) : value;
        });
    if (!ok) return std::unexpected(ok.error());
    return out;
}

}  // namespace tern::mailauth
