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
    std::size_t i = 0;
    for (; in_header_ && i < piece.size(); ++i)
        header_octet(piece[i]);
    if (std::memchr(piece.data(), '\0', piece.size()) == nullptr) return;
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
