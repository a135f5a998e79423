// HeaderSplitter: cuts a message text that arrives in pieces of any size into its header
// fields (each whole: name, colon, value with its folding, line end) and its body (RFC 5322
// section 2.1). Sans-I/O; input is untrusted and may split anywhere, lines may end in CRLF or,
// from BDAT, in bare LF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tern::message {

class HeaderSink {
  public:
    virtual ~HeaderSink() = default;
    // One header field, raw, with its line end(s).
    virtual void on_field(std::string_view raw) = 0;
    // The header section is over; `separator` is the empty line ending it ("\r\n" or "\n"), or
    // empty when a line that is no header field began the body (or the text ended first).
    virtual void on_end_of_headers(std::string_view separator) = 0;
    // The next piece of the body.
    virtual void on_body(std::string_view bytes) = 0;
};

class HeaderSplitter {
  public:
    // A field longer than `max_field` octets is never kept whole: the header section is then
    // reported as too large (too_large()) and everything after it goes to on_body unsplit.
    explicit HeaderSplitter(std::size_t max_field = 1 << 20) : max_field_(max_field) {}

    // Consumes the next piece of the text.
    void feed(std::string_view bytes, HeaderSink& sink);
    // The text is complete: a field or line still held is passed on.
    void finish(HeaderSink& sink);

    bool in_body() const { return state_ == State::kBody; }
    bool too_large() const { return too_large_; }
    // Octets of the header section so far, fields and separator.
    std::size_t header_octets() const { return header_octets_; }

  private:
    enum class State { kHeaders, kBody };

    void line_complete(HeaderSink& sink);
    void to_body(HeaderSink& sink, std::string_view separator);

    std::size_t max_field_;
    State state_ = State::kHeaders;
    std::string field_;  // the field being gathered: its complete lines so far
    std::string line_;   // the line being read, up to and with its LF
    bool too_large_ = false;
    std::size_t header_octets_ = 0;
};

// True when `line` (without its line end) can begin a header field: a name of printable
// US-ASCII other than colon (RFC 5322 ftext), then optional WSP, then a colon.
bool starts_field(std::string_view line);

// The name of a raw field ("Subject" of "Subject: hi\r\n"), without trailing WSP.
std::string_view field_name(std::string_view raw);

// The value of a raw field: everything after the colon, line end included.
std::string_view field_value(std::string_view raw);

}  // namespace tern::message
