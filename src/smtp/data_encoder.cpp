// DataEncoder: dot-stuffing and line-ending normalisation for outbound DATA, streaming (the
// text arrives in pieces of any size; a CR at the end of one piece is resolved by the next).
#include "smtp/data_encoder.h"

namespace tern::smtp {

void DataEncoder::encode(std::string_view text, std::string& out) {
    out.reserve(out.size() + text.size() + text.size() / 64 + 8);
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (pending_cr_) {
            pending_cr_ = false;
            out += "\r\n";
            at_line_start_ = true;
            if (c == '\n') continue;  // CRLF
            // A bare CR became CRLF; go on with c as the start of the next line.
        }
        if (c == '\r') {
            pending_cr_ = true;
            continue;
        }
        if (c == '\n') {  // a bare LF
            out += "\r\n";
            at_line_start_ = true;
            continue;
        }
        if (at_line_start_ && c == '.') out += '.';
        at_line_start_ = false;
        // Copy the rest of the line in one go.
        std::size_t end = i + 1;
        while (end < text.size() && text[end] != '\r' && text[end] != '\n')
            ++end;
        out += c;
        out.append(text.substr(i + 1, end - i - 1));
        i = end - 1;
    }
}

void DataEncoder::finish(std::string& out) {
    if (pending_cr_) {
        pending_cr_ = false;
        out += "\r\n";
        at_line_start_ = true;
    }
    if (!at_line_start_) out += "\r\n";
    out += ".\r\n";
    at_line_start_ = true;
}

}  // namespace tern::smtp
