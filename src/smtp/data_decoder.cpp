// DataDecoder: a byte-at-a-time state machine with a fast path for the inside of lines.
// See data_decoder.h for the ending rules; every transition below is one rule of RFC 5321 4.5.2
// or of the bare LF mode.
#include "smtp/data_decoder.h"

#include <cstring>

namespace tern::smtp {

void DataDecoder::emit(std::string& out, std::string_view bytes) {
    size_ += bytes.size();
    if (limits_.max_message_size != 0 && size_ > limits_.max_message_size) too_big_ = true;
    if (refused()) return;
    out.append(bytes);
}

void DataDecoder::end_line(std::string& out, State next) {
    emit(out, "\r\n");
    ++lines_;
    line_length_ = 0;
    state_ = next;
}

void DataDecoder::count_line_octets(std::size_t n) {
    line_length_ += n;
    // The limit counts the CRLF too (RFC 5321 section 4.5.3.1.6).
    if (limits_.max_line_length != 0 && line_length_ + 2 > limits_.max_line_length)
        line_too_long_ = true;
}

std::size_t DataDecoder::decode(std::string_view in, std::string& out) {
    std::size_t i = 0;
    while (i < in.size() && state_ != State::kDone) {
        char c = in[i];
        switch (state_) {
            case State::kLineStart:
                if (c == '.') {
                    state_ = State::kDot;
                    ++i;
                    continue;
                }
                state_ = State::kText;
                continue;  // reprocess as text
            case State::kLineStartLf:
                // After a bare LF the end of data cannot begin: a leading dot is stuffing.
                if (c == '.') ++i;
                state_ = State::kText;
                continue;
            case State::kDot:
                if (c == '\r') {
                    state_ = State::kDotCr;
                    ++i;
                    continue;
                }
                // A leading dot on any other line is stuffing: drop it.
                state_ = State::kText;
                continue;
            case State::kDotCr:
                if (c == '\n') {
                    state_ = State::kDone;
                    ++i;
                    continue;
                }
                // "." CR then not LF: a bare CR. The dot was stuffing; the CR is text.
                saw_bare_cr_ = true;
                count_line_octets(1);
                emit_char(out, '\r');
                state_ = State::kText;
                if (c == '\r') {
                    state_ = State::kCr;
                    ++i;
                }
                continue;
            case State::kText: {
                // Fast path: copy up to the next CR or LF in one go.
                const char* start = in.data() + i;
                std::size_t left = in.size() - i;
                std::size_t n = 0;
                while (n < left && start[n] != '\r' && start[n] != '\n')
                    ++n;
                if (n > 0) {
                    count_line_octets(n);
                    emit(out, std::string_view(start, n));
                    i += n;
                    continue;
                }
                ++i;
                if (c == '\r') {
                    state_ = State::kCr;
                } else if (bare_lf_ == BareLf::kNormalize) {
                    ++normalized_;
                    end_line(out, State::kLineStartLf);
                } else {
                    // A bare LF in reject mode: text, never a line end.
                    saw_bare_lf_ = true;
                    count_line_octets(1);
                    emit_char(out, '\n');
                }
                continue;
            }
            case State::kCr:
                if (c == '\n') {
                    end_line(out, State::kLineStart);
                    ++i;
                    continue;
                }
                // A CR not followed by LF is a bare CR: text, never a line end.
                saw_bare_cr_ = true;
                count_line_octets(1);
                emit_char(out, '\r');
                if (c == '\r') {
                    ++i;  // stay in kCr for the new CR
                    continue;
                }
                state_ = State::kText;
                continue;
            case State::kDone:
                break;
        }
    }
    return i;
}

}  // namespace tern::smtp
