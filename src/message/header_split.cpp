// Header/body splitting of whole message texts, RFC 5322 section 2.2.3 (folding).
#include "message/header_split.h"

namespace tern::message {

SplitMessage split_header(std::string_view text) {
    SplitMessage out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find("\r\n", pos);
        std::size_t next = end == std::string_view::npos ? text.size() : end + 2;
        std::string_view line = text.substr(pos, next - pos);
        if (line == "\r\n") {
            out.body = text.substr(next);
            return out;
        }
        bool continuation = (line[0] == ' ' || line[0] == '\t') && !out.fields.empty();
        if (continuation) {
            out.fields.back() += line;
        } else {
            out.fields.emplace_back(line);
        }
        pos = next;
    }
    // No empty line: the last field may lack its CRLF.
    if (!out.fields.empty() && !out.fields.back().ends_with("\r\n")) out.fields.back() += "\r\n";
    return out;
}

std::string to_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
        out += text[i];
    }
    return out;
}

bool has_bare_lf(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) return true;
    return false;
}

}  // namespace tern::message
