// The strict base64 codec of base64.h (OpenSSL's EVP_DecodeBlock accepts whitespace and
// miscounts padding, so it is not used).
#include "base/base64.h"

#include <array>
#include <cstdint>

namespace tern {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        std::uint32_t v = (std::uint32_t(std::uint8_t(data[i])) << 16) |
                          (std::uint32_t(std::uint8_t(data[i + 1])) << 8) |
                          std::uint8_t(data[i + 2]);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    std::size_t rest = data.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t(std::uint8_t(data[i])) << 16;
        if (rest == 2) v |= std::uint32_t(std::uint8_t(data[i + 1])) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        std::array<int, 4> s{};
        for (std::size_t k = 0; k < 4; ++k) {
            bool padding = last && k >= 4 - pad;
            s[k] = padding ? 0 : sextet(text[i + k]);
            if (s[k] < 0) return std::nullopt;
        }
        std::uint32_t v = (std::uint32_t(s[0]) << 18) | (std::uint32_t(s[1]) << 12) |
                          (std::uint32_t(s[2]) << 6) | std::uint32_t(s[3]);
        out += static_cast<char>(v >> 16);
        if (!last || pad < 2) out += static_cast<char>((v >> 8) & 0xff);
        if (!last || pad < 1) out += static_cast<char>(v & 0xff);
        // Bits that the padding leaves unused must be zero, so each octet string has one form.
        if (last && pad == 1 && (v & 0xff) != 0) return std::nullopt;
        if (last && pad == 2 && (v & 0xffff) != 0) return std::nullopt;
    }
    return out;
}

std::string base64url_encode(std::string_view data) {
    std::string b = base64_encode(data);
    while (!b.empty() && b.back() == '=')
        b.pop_back();
    for (char& c : b) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    return b;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    std::string b(text);
    for (char& c : b) {
        if (c == '+' || c == '/' || c == '=') return std::nullopt;
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
    }
    if (b.size() % 4 == 1) return std::nullopt;
    b.append((4 - b.size() % 4) % 4, '=');
    return base64_decode(b);
}

}  // namespace tern
