// Address lists: a small scanner of RFC 5322 section 3.4 that splits the value at top-level
// commas (outside quotes, comments and angle brackets), takes a group's members, and keeps of
// each mailbox its addr-spec: the part in angle brackets, or the whole without comments.
#include "message/address_list.h"

#include "base/text.h"

namespace tern::message {
namespace {

// `text` without its comments (nested parentheses, quoted pairs) and with blanks trimmed;
// quoted strings are kept as they are.
std::string without_comments(std::string_view text) {
    std::string out;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size() && (quoted || depth > 0)) {
            if (depth == 0) {
                out += c;
                out += text[i + 1];
            }
            ++i;
            continue;
        }
        if (depth > 0) {
            if (c == '(') ++depth;
            if (c == ')') --depth;
            continue;
        }
        if (c == '"') quoted = !quoted;
        if (c == '(' && !quoted) {
            depth = 1;
            out += ' ';
            continue;
        }
        out += c;
    }
    return std::string(trim_blanks(out));
}

// The addr-spec of one mailbox: the last angle-bracketed part, or the whole; a route
// ("@a,@b:user@x") is dropped.
std::string addr_spec(std::string_view mailbox) {
    std::string text = without_comments(mailbox);
    std::string_view spec = text;
    auto open = spec.rfind('<');
    if (open != std::string_view::npos) {
        auto close = spec.find('>', open);
        spec = spec.substr(
            open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
        if (!spec.empty() && spec.front() == '@') {
            auto colon = spec.find(':');
            spec = colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
        }
    }
    // Blanks next to '@' or '.' (obsolete folding: "alice @ example.org") are not part of the
    // address; a blank between two words stays, and makes it no address.
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::string out;
    bool quoted = false;
    for (std::size_t i = 0; i < spec.size(); ++i) {
        char c = spec[i];
        if (c == '"') quoted = !quoted;
        if (quoted || !blank(c)) {
            out += c;
            continue;
        }
        std::size_t next = i;
        while (next < spec.size() && blank(spec[next]))
            ++next;
        bool joins = out.empty() || next == spec.size() || out.back() == '@' || out.back() == '.' ||
                     spec[next] == '@' || spec[next] == '.';
        if (!joins) out += ' ';
        i = next - 1;
    }
    return out;
}

bool plausible(std::string_view spec) {
    auto at = spec.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == spec.size()) return false;
    bool quoted = false;
    for (char c : spec) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
        if (c == '"') quoted = !quoted;
        if (c == ' ' && !quoted) return false;
    }
    return spec.substr(at + 1).find_first_of("<>()[],;:\\\" ") == std::string_view::npos ||
           (spec[at + 1] == '[' && spec.back() == ']');
}

// Splits `value` at top-level occurrences of `separators`; a ':' outside quotes and angle
// brackets opens a group, whose ';' closes it. Each piece is handed to `take`.
template <class Take>
void split(std::string_view value, Take take) {
    int depth = 0;  // comments
    bool quoted = false, angle = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        char c = i < value.size() ? value[i] : ',';
        if (i < value.size()) {
            if (c == '\\' && i + 1 < value.size()) {
                ++i;
                continue;
            }
            if (depth > 0) {
                if (c == '(') ++depth;
                if (c == ')') --depth;
                continue;
            }
            if (quoted) {
                if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') {
                quoted = true;
                continue;
            }
            if (c == '(') {
                depth = 1;
                continue;
            }
            if (c == '<') angle = true;
            if (c == '>') angle = false;
            if (angle) continue;
        }
        if (c == ':') {  // a group's display name ends here
            start = i + 1;
            continue;
        }
        if (c == ',' || c == ';') {
            take(value.substr(start, i - start));
            start = i + 1;
        }
    }
}

}  // namespace

AddressList parse_address_list(std::string_view value) {
    AddressList out;
    split(value, [&](std::string_view piece) {
        std::string spec = addr_spec(piece);
        if (spec.empty()) {
            if (!without_comments(piece).empty()) out.invalid.emplace_back(trim_blanks(piece));
            return;
        }
        if (plausible(spec))
            out.addresses.push_back(std::move(spec));
        else
            out.invalid.push_back(std::move(spec));  // "bob" of "(team) bob": a bare name
    });
    return out;
}

std::vector<std::string> field_values(const std::vector<std::string>& fields,
                                      std::string_view name) {
    std::vector<std::string> out;
    for (const auto& field : fields) {
        auto colon = field.find(':');
        if (colon == std::string::npos) continue;
        if (!ascii_iequals(trim_blanks(std::string_view(field).substr(0, colon)), name)) continue;
        std::string value;
        for (char c : std::string_view(field).substr(colon + 1))
            if (c != '\r' && c != '\n') value += c;
        out.push_back(std::move(value));
    }
    return out;
}

}  // namespace tern::message
