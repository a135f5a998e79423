// DataDecoder: turns the bytes a client sends after DATA into the message, per RFC 5321
// section 4.1.1.4 and 4.5.2 (dot-stuffing). Input is untrusted and may arrive split anywhere.
//
// Smuggling defence (docs/protocol.md): the body ends only at CR LF "." CR LF. A bare CR or a
// bare LF never ends a line, so "<LF>.<LF>" and its variants are message text; the decoder
// records that it saw one and the session rejects the message at its real end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::smtp {

class DataDecoder {
  public:
    struct Limits {
        std::uint64_t max_message_size = 0;  // octets of decoded message; 0 = no limit
        std::size_t max_line_length = 0;     // octets per line including CRLF; 0 = no limit
    };

    explicit DataDecoder(Limits limits) : limits_(limits) {}

    // Consumes bytes from `in` and appends the decoded message to `out`, stopping right after
    // the terminating CRLF.CRLF. Returns how many bytes of `in` were used; done() tells whether
    // the terminator was reached. Once a limit is exceeded nothing more is appended.
    std::size_t decode(std::string_view in, std::string& out);

    bool done() const { return state_ == State::kDone; }
    bool saw_bare_line_ending() const { return bare_line_ending_; }
    bool line_too_long() const { return line_too_long_; }
    bool too_big() const { return too_big_; }
    // Octets of decoded message so far, counted even past the size limit.
    std::uint64_t size() const { return size_; }
    // The number of lines decoded, for the trace header count.
    std::uint64_t lines() const { return lines_; }

  private:
    enum class State {
        kLineStart,  // after CRLF or at the very start
        kDot,        // a "." at the start of a line
        kDotCr,      // "." CR at the start of a line
        kText,       // inside a line
        kCr,         // a CR inside a line, not yet known to be part of CRLF
        kDone,
    };

    void emit(std::string& out, std::string_view bytes);
    void emit_char(std::string& out, char c) { emit(out, std::string_view(&c, 1)); }
    void count_line_octets(std::size_t n);

    Limits limits_;
    State state_ = State::kLineStart;
    std::size_t line_length_ = 0;  // octets in the current line so far, without CRLF
    std::uint64_t size_ = 0;
    std::uint64_t lines_ = 0;
    bool bare_line_ending_ = false;
    bool line_too_long_ = false;
    bool too_big_ = false;
};

}  // namespace tern::smtp
