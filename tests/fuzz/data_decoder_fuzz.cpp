// libFuzzer target for DataDecoder: arbitrary message bytes, decoded whole and split at a point
// the input chooses, in both bare LF modes, checked against each other and against the plain
// rules of RFC 5321 4.5.2.
//
// Input layout: byte 0 picks the limits, bytes 1-2 pick the split point, the rest is the data.
// Invariants, in each mode: the split never changes consumption, flags, size or line count, nor
// the output of an acceptable message; the message ends at the first CRLF "." CRLF and nowhere
// else; output of an acceptable message, dot-stuffed again, decodes back to itself. Across modes:
// both end at the same octet (normalising a bare LF never creates an end), see the same bare CRs,
// and agree whole on input without a bare LF; normalised output holds no bare CR or LF.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "smtp/data_decoder.h"

namespace tern::smtp {
namespace {

using fuzz::check;

struct Decoded {
    std::string out;
    std::size_t consumed = 0;
    bool done = false;
    bool bare = false;
    bool bare_cr = false;
    bool too_long = false;
    bool too_big = false;
    std::uint64_t size = 0;
    std::uint64_t lines = 0;
    std::uint64_t normalized = 0;

    bool refused() const { return bare || too_long || too_big; }
};

Decoded decode(std::string_view in, std::size_t cut, DataDecoder::Limits limits, BareLf mode) {
    DataDecoder decoder(limits, mode);
    Decoded r;
    std::size_t used = decoder.decode(in.substr(0, cut), r.out);
    check(used <= cut);
    r.consumed = used;
    if (!decoder.done()) {
        check(used == cut);  // without the end, everything is consumed
        r.consumed += decoder.decode(in.substr(cut), r.out);
    } else {
        std::string ignored;
        check(decoder.decode(in.substr(cut), ignored) == 0);  // nothing after the end
        check(ignored.empty());
    }
    r.done = decoder.done();
    r.bare = decoder.saw_bare_line_ending();
    r.bare_cr = decoder.saw_bare_cr();
    r.normalized = decoder.normalized_line_ends();
    r.too_long = decoder.line_too_long();
    r.too_big = decoder.too_big();
    r.size = decoder.size();
    r.lines = decoder.lines();
    return r;
}

// Where the message ends: the offset just past the first "." CR LF that starts a line.
std::size_t end_of_message(std::string_view in) {
    for (std::size_t p = 0; p + 3 <= in.size(); ++p)
        if (in.substr(p, 3) == ".\r\n" && (p == 0 || (p >= 2 && in.substr(p - 2, 2) == "\r\n")))
            return p + 3;
    return std::string_view::npos;
}

// Dot-stuffing as a client does it, with the end marker added.
std::string stuff(std::string_view message) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < message.size(); ++i) {
        if (line_start && message[i] == '.') out += '.';
        out += message[i];
        line_start = message[i] == '\n' && i > 0 && message[i - 1] == '\r';
    }
    return out + ".\r\n";
}

// Every CR is followed by LF and every LF preceded by CR.
bool only_crlf(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
    }
    return true;
}

// The invariants of one mode; returns the whole-input result for the checks across modes.
Decoded check_mode(std::string_view in, std::size_t cut, DataDecoder::Limits limits, BareLf mode) {
    Decoded whole = decode(in, in.size(), limits, mode);
    Decoded split = decode(in, cut, limits, mode);
    check(whole.consumed == split.consumed);
    check(whole.done == split.done);
    check(whole.bare == split.bare);
    check(whole.bare_cr == split.bare_cr);
    check(whole.too_long == split.too_long);
    check(whole.too_big == split.too_big);
    check(whole.size == split.size);
    check(whole.lines == split.lines);
    check(whole.normalized == split.normalized);
    if (!whole.refused()) check(whole.out == split.out);

    std::size_t end = end_of_message(in);
    check(whole.done == (end != std::string_view::npos));
    check(whole.consumed == (whole.done ? end : in.size()));
    check(whole.out.size() <= whole.size);
    check(whole.too_big == (limits.max_message_size != 0 && whole.size > limits.max_message_size));
    if (mode == BareLf::kReject) check(whole.normalized == 0);
    if (mode == BareLf::kNormalize) check(whole.bare == whole.bare_cr);

    if (whole.done && !whole.refused()) {
        check(whole.out.size() == whole.size);
        check(whole.out.empty() || whole.out.ends_with("\r\n"));
        check(only_crlf(whole.out));
        // Round trip: what a client would send for this message decodes back to it.
        std::string again = stuff(whole.out);
        Decoded back = decode(again, again.size(), {}, BareLf::kReject);
        check(back.done && !back.refused());
        check(back.consumed == again.size());
        check(back.out == whole.out);
        check(back.lines == whole.lines);
    }
    return whole;
}

}  // namespace
}  // namespace tern::smtp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::smtp;
    if (size < 3) return 0;
    DataDecoder::Limits limits;
    switch (data[0] % 4) {
        case 0:
            break;
        case 1:
            limits = {0, 8};
            break;
        case 2:
            limits = {16, 0};
            break;
        default:
            limits = {64, 1000};
            break;
    }
    std::string_view in(reinterpret_cast<const char*>(data) + 3, size - 3);
    std::size_t cut = ((static_cast<std::size_t>(data[1]) << 8) | data[2]) % (in.size() + 1);

    Decoded strict = check_mode(in, cut, limits, BareLf::kReject);
    Decoded normal = check_mode(in, cut, limits, BareLf::kNormalize);
    check(strict.done == normal.done);
    check(strict.consumed == normal.consumed);
    check(strict.bare_cr == normal.bare_cr);
    if (!strict.bare) {
        // Without a bare LF the modes cannot differ at all.
        check(normal.normalized == 0);
        check(normal.out == strict.out && normal.size == strict.size);
        check(normal.lines == strict.lines && normal.too_long == strict.too_long);
    }
    // Every LF that the strict mode finds bare is a line end in the other.
    if (strict.bare && !strict.bare_cr) check(normal.normalized > 0);
    return 0;
}
