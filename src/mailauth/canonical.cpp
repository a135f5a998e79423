// Header and body canonicalisation, RFC 6376 sections 3.4.1 to 3.4.4 (with erratum 1384: the
// relaxed body rules reduce white space first, then drop the empty lines at the end).
#include "mailauth/canonical.h"

namespace tern::mailauth {
namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view canon_name(Canon canon) {
    return canon == Canon::kSimple ? "simple" : "relaxed";
}

std::optional<Canon> parse_canon(std::string_view word) {
    if (word == "simple") return Canon::kSimple;
    if (word == "relaxed") return Canon::kRelaxed;
    return std::nullopt;
}

std::string_view field_name(std::string_view raw_field) {
    auto colon = raw_field.find(':');
    if (colon == std::string_view::npos) return {};
    std::string_view name = raw_field.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
        name.remove_suffix(1);
    return name;
}

std::string_view field_value(std::string_view raw_field) {
    auto colon = raw_field.find(':');
    if (colon == std::string_view::npos) return {};
    std::string_view value = raw_field.substr(colon + 1);
    if (value.ends_with("\r\n")) value.remove_suffix(2);
    return value;
}

std::string canonical_header(std::string_view raw_field, Canon canon) {
    if (canon == Canon::kSimple) return std::string(raw_field);
    bool crlf = raw_field.ends_with("\r\n");
    if (crlf) raw_field.remove_suffix(2);
    std::string out;
    out.reserve(raw_field.size() + 2);
    auto colon = raw_field.find(':');
    std::size_t value_begin = 0;  // a text without a colon is hashed as a value
    if (colon != std::string_view::npos) {
        for (char c : field_name(raw_field))
            out += lower(c);
        out += ':';
        value_begin = colon + 1;
    }
    // The value: folds removed, runs of WSP made one space, none at either end.
    bool started = false;
    bool space = false;
    for (std::size_t i = value_begin; i < raw_field.size(); ++i) {
        char c = raw_field[i];
        // A fold is CRLF followed by WSP (RFC 6376 section 3.4.2); its WSP is reduced below. A
        // run of CRLFs is one fold when WSP follows it (removing one fold would make another),
        // else kept as text (a field the pipeline hands over has none), so that canonicalising
        // twice changes nothing.
        if (c == '\r' && i + 1 < raw_field.size() && raw_field[i + 1] == '\n') {
            std::size_t after = i;
            while (raw_field.substr(after, 2) == "\r\n")
                after += 2;
            if (after == raw_field.size() || !is_wsp(raw_field[after])) {
                if (space && started) out += ' ';
                space = false;
                started = true;
                out += raw_field.substr(i, after - i);
            }
            i = after - 1;
            continue;
        }
        if (is_wsp(c)) {
            space = true;
            continue;
        }
        if (space && started) out += ' ';
        space = false;
        started = true;
        out += c;
    }
    if (crlf) out += "\r\n";
    return out;
}

void BodyCanonicalizer::content(char c, std::string& out) {
    if (held_lines_ > 0) {
        for (; held_lines_ > 0; --held_lines_)
            out += "\r\n";
    }
    if (pending_wsp_) {
        out += ' ';
        pending_wsp_ = false;
    }
    out += c;
    line_has_text_ = true;
    wrote_anything_ = true;
}

void BodyCanonicalizer::line_end(std::string& out) {
    pending_wsp_ = false;  // relaxed: white space at the end of a line is dropped
    if (line_has_text_) {
        out += "\r\n";
        line_has_text_ = false;
    } else {
        ++held_lines_;
    }
}

void BodyCanonicalizer::feed(std::string_view chunk, std::string& out) {
    std::size_t i = 0;
    if (pending_cr_ && !chunk.empty()) {
        pending_cr_ = false;
        if (chunk[0] == '\n') {
            line_end(out);
            i = 1;
        } else {
            content('\r', out);
        }
    }
    const char* specials = canon_ == Canon::kSimple ? "\r" : "\r \t";
    while (i < chunk.size()) {
        std::size_t next = chunk.find_first_of(specials, i);
        if (next == std::string_view::npos) next = chunk.size();
        if (next > i) {
            // A run of ordinary text: written at once after what it releases.
            content(chunk[i], out);
            out.append(chunk.substr(i + 1, next - i - 1));
            i = next;
            continue;
        }
        char c = chunk[i];
        if (c == '\r') {
            if (i + 1 == chunk.size()) {
                pending_cr_ = true;
                return;
            }
            if (chunk[i + 1] == '\n') {
                line_end(out);
                i += 2;
            } else {
                content('\r', out);
                ++i;
            }
            continue;
        }
        pending_wsp_ = true;  // relaxed only: WSP is never special in simple
        ++i;
    }
}

void BodyCanonicalizer::finish(std::string& out) {
    if (pending_cr_) {
        pending_cr_ = false;
        content('\r', out);
    }
    pending_wsp_ = false;
    held_lines_ = 0;
    if (line_has_text_) {
        out += "\r\n";
        line_has_text_ = false;
    } else if (!wrote_anything_ && canon_ == Canon::kSimple) {
        out += "\r\n";
        wrote_anything_ = true;
    }
}

}  // namespace tern::mailauth
