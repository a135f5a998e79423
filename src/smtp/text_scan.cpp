// TextScan: the hop count (Received fields of the header section) and the NUL octets of a
// message, byte by byte through the header section and by memchr through the body.
#include "smtp/text_scan.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace tern::smtp {
namespace {

constexpr std::string_view kReceived = "received";

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

void TextScan::scan(std::string& piece) {
    bool has_nul = std::memchr(piece.data(), '\0', piece.size()) != nullptr;
    std::size_t i = 0;
    while (in_header_ && i < piece.size()) {
        if (name_done_ && line_len_ > 0) {
            // The rest of a field's line says nothing: jump to its end.
            const char* lf =
                static_cast<const char*>(std::memchr(piece.data() + i, '\n', piece.size() - i));
            std::size_t end = lf ? static_cast<std::size_t>(lf - piece.data()) : piece.size();
            if (has_nul)
                nuls_ += static_cast<std::uint64_t>(
                    std::count(piece.begin() + static_cast<std::ptrdiff_t>(i),
                               piece.begin() + static_cast<std::ptrdiff_t>(end), '\0'));
            line_len_ += end - i;
            i = end;
            if (lf) header_octet(piece[i++]);  // the LF: the next line starts
            continue;
        }
        header_octet(piece[i++]);
    }
    if (!has_nul) return;
    auto nuls = static_cast<std::uint64_t>(std::count(piece.begin() + i, piece.end(), '\0'));
    nuls_ += nuls;
    if (nul_ == NulOctets::kStrip) std::erase(piece, '\0');
}

void TextScan::header_octet(char c) {
    if (c == '\0') ++nuls_;  // counted here; the body part of a piece is counted by scan()
    if (c == '\r') return;   // a line end is its LF; a bare CR is the decoder's business
    if (c == '\n') {
        if (line_len_ == 0) in_header_ = false;  // the empty line ends the header section
        line_len_ = 0;
        name_done_ = false;
        name_.clear();
        return;
    }
    ++line_len_;
    if (name_done_) return;
    if (c == ' ' || c == '\t') {
        // A line that starts blank continues the field before it (RFC 5322 2.2.3); blanks
        // before the colon are obsolete syntax (RFC 5322 4.5) and skipped.
        if (line_len_ == 1) name_done_ = true;
        return;
    }
    if (c == ':') {
        name_done_ = true;
        if (name_ == kReceived) ++received_;
        return;
    }
    if (name_.size() == kReceived.size()) {
        name_done_ = true;  // longer than "received": another field
        return;
    }
    name_ += lower(c);
}

}  // namespace tern::smtp
