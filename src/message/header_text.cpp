// Header field text: cleaning untrusted values so they cannot break a header's structure, and
// folding long fields. Input is untrusted (peer replies, client names, addresses).
#include "message/header_text.h"

#include <vector>

namespace tern::message {
namespace {

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// Splits `word` into pieces that fit a line of their own after `indent` under the hard limit,
// cutting only between UTF-8 sequences. Only runaway input (a 1000-octet token) is ever cut.
std::vector<std::string_view> hard_pieces(std::string_view word, std::size_t indent) {
    const std::size_t piece = kMaxLine - indent;
    std::vector<std::string_view> pieces;
    while (word.size() > piece) {
        std::size_t cut = piece;
        while (cut > 0 && is_continuation(static_cast<unsigned char>(word[cut])))
            --cut;
        if (cut == 0) cut = piece;
        pieces.push_back(word.substr(0, cut));
        word.remove_prefix(cut);
    }
    if (!word.empty()) pieces.push_back(word);
    return pieces;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    auto cont = [&](std::size_t k) { return i + k < text.size() && is_continuation(b(k)); };
    unsigned char c = b(0);
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

bool is_ascii(std::string_view text) {
    for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    }
    return true;
}

std::string clean_header_text(std::string_view value, bool utf8) {
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    auto put = [&](std::string_view s) {
        if (pending_space && !out.empty()) out += ' ';
        pending_space = false;
        out += s;
    };
    for (std::size_t i = 0; i < value.size();) {
        auto c = static_cast<unsigned char>(value[i]);
        if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
            pending_space = true;
            ++i;
        } else if (c < 0x20 || c == 0x7F) {
            ++i;
        } else if (c < 0x80) {
            put(value.substr(i, 1));
            ++i;
        } else if (std::size_t n = utf8_sequence_length(value, i); utf8 && n > 0) {
            put(value.substr(i, n));
            i += n;
        } else {
            put("?");
            i += n > 0 ? n : 1;
        }
    }
    return out;
}

std::string wrap_words(std::string_view start, std::string_view value, std::string_view indent,
                       std::size_t width) {
    std::string out(start);
    std::size_t line = out.size();
    bool has_word = false;  // the current line holds a word, so breaking before the next helps
    while (!value.empty()) {
        std::size_t space = value.find(' ');
        std::string_view word = value.substr(0, space);
        value.remove_prefix(space == std::string_view::npos ? value.size() : space + 1);
        for (std::string_view piece : hard_pieces(word, indent.size())) {
            std::size_t after = line + 1 + piece.size();
            if ((after > width && has_word) || after > kMaxLine) {
                out += "\r\n";
                out += indent;
                line = indent.size();
            } else {
                out += ' ';
                ++line;
            }
            out += piece;
            line += piece.size();
            has_word = true;
        }
    }
    return out;
}

std::string fold_header(std::string_view name, std::string_view value) {
    std::string start(name);
    start += ':';
    return wrap_words(start, value, " ", kFoldLine) + "\r\n";
}

bool is_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
        } else if (std::size_t n = utf8_sequence_length(text, i); n > 0) {
            i += n;
        } else {
            return false;
        }
    }
    return true;
}

}  // namespace tern::message
