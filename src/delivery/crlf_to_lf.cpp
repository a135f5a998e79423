// CrlfToLf: line-end conversion for Maildir files. Only a CR directly before an LF is dropped,
// so a lone CR inside a line (legal in 8BITMIME and BDAT bodies) stays as it was.
#include "delivery/crlf_to_lf.h"

namespace tern::delivery {

void CrlfToLf::convert(std::string_view chunk, std::string& out) {
    while (!chunk.empty()) {
        if (held_cr_) {
            held_cr_ = false;
            if (chunk.front() != '\n') out += '\r';
        }
        std::size_t cr = chunk.find('\r');
        if (cr == std::string_view::npos) {
            out.append(chunk);
            return;
        }
        out.append(chunk.substr(0, cr));
        held_cr_ = true;
        chunk.remove_prefix(cr + 1);
    }
}

void CrlfToLf::finish(std::string& out) {
    if (held_cr_) out += '\r';
    held_cr_ = false;
}

}  // namespace tern::delivery
