// DataDecoder: turns the bytes a client sends after DATA into the message, per RFC 5321
// section 4.1.1.4 and 4.5.2 (dot-stuffing). Input is untrusted and may arrive split anywhere.
//
// Smuggling defence (docs/protocol.md): the body ends only at CR LF "." CR LF, in either mode,
// so "<LF>.<LF>" and its variants are message text and never end it. A bare CR is never a line
// end: the decoder records it and the session refuses the message at its real end. A bare LF
// is recorded the same way (BareLf::kReject), or is a line end stored as CR LF
// (BareLf::kNormalize); a "." line after such a line end, or a "." followed by a bare LF, is
// dot-stuffing, never the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::smtp {

// What a bare LF (an LF not preceded by CR) in DATA or a command line means.
enum class BareLf {
    kNormalize,  // a line end, stored as CR LF (Postfix's smtpd_forbid_bare_newline = normalize)
    kReject,     // text that gets the message refused (554 5.6.0) or the command line (500 5.5.2)
};

class DataDecoder {
  public:
    struct Limits {
        std::uint64_t max_message_size = 0;  // octets of decoded message; 0 = no limit
        std::size_t max_line_length = 0;     // octets per line including CRLF; 0 = no limit
    };

    explicit DataDecoder(Limits limits, BareLf bare_lf = BareLf::kReject)
        : limits_(limits), bare_lf_(bare_lf) {}

    // Consumes bytes from `in` and appends the decoded message to `out`, stopping right after
    // the terminating CRLF.CRLF. Returns how many bytes of `in` were used; done() tells whether
    // the terminator was reached. Once the message is known to be refused (a limit exceeded, a
    // bare line ending seen) nothing more is appended.
    std::size_t decode(std::string_view in, std::string& out);

    bool done() const { return state_ == State::kDone; }
    // A bare CR, or (BareLf::kReject only) a bare LF: the message must be refused.
    bool saw_bare_line_ending() const { return saw_bare_cr_ || saw_bare_lf_; }
    bool saw_bare_cr() const { return saw_bare_cr_; }
    bool line_too_long() const { return line_too_long_; }
    bool too_big() const { return too_big_; }
    // Octets of decoded message so far, counted even past the size limit.
    std::uint64_t size() const { return size_; }
    // The number of lines decoded, for the trace header count.
    std::uint64_t lines() const { return lines_; }
    // Bare LFs stored as CR LF (BareLf::kNormalize).
    std::uint64_t normalized_line_ends() const { return normalized_; }

  private:
    enum class State {
        kLineStart,    // after CRLF or at the very start: a "." here may begin the end
        kLineStartLf,  // after a bare LF taken as a line end: a "." here is only stuffing
        kDot,          // a "." at the start of a line
        kDotCr,        // "." CR at the start of a line
        kText,         // inside a line
        kCr,           // a CR inside a line, not yet known to be part of CRLF
        kDone,
    };

    void emit(std::string& out, std::string_view bytes);
    void emit_char(std::string& out, char c) { emit(out, std::string_view(&c, 1)); }
    void count_line_octets(std::size_t n);
    void end_line(std::string& out, State next);
    bool refused() const { return too_big_ || line_too_long_ || saw_bare_line_ending(); }

    Limits limits_;
    BareLf bare_lf_;
    State state_ = State::kLineStart;
    std::size_t line_length_ = 0;  // octets in the current line so far, without CRLF
    std::uint64_t size_ = 0;
    std::uint64_t lines_ = 0;
    std::uint64_t normalized_ = 0;
    bool saw_bare_cr_ = false;
    bool saw_bare_lf_ = false;  // only in BareLf::kReject
    bool line_too_long_ = false;
    bool too_big_ = false;
};

}  // namespace tern::smtp
