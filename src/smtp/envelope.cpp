// xtext coding of RFC 3461 section 4 and the text form of NOTIFY.
// Inputs come from the client's MAIL and RCPT parameters and are checked octet by octet.
#include "smtp/envelope.h"

namespace tern::smtp {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // RFC 3461: hexchar uses upper-case letters only
}

}  // namespace

std::string DsnNotify::str() const {
    if (never) return "NEVER";
    std::string out;
    auto add = [&](bool on, const char* word) {
        if (!on) return;
        if (!out.empty()) out += ',';
        out += word;
    };
    add(success, "SUCCESS");
    add(failure, "FAILURE");
    add(delay, "DELAY");
    return out;
}

std::optional<std::string> decode_xtext(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = text[i];
        if (c == '+') {
            if (i + 2 >= text.size()) return std::nullopt;
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
            continue;
        }
        // xchar: "!" (33) to "~" (126), except "+" and "=".
        if (c < 33 || c > 126 || c == '=') return std::nullopt;
        out += static_cast<char>(c);
    }
    return out;
}

std::string encode_xtext(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c < 33 || c > 126 || c == '+' || c == '=') {
            out += '+';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace tern::smtp
