// ReplyParser: reads SMTP replies (RFC 5321 section 4.2) from a server, including multi-line
// ones, out of bytes that may arrive split anywhere. Input is untrusted and bounded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/replies.h"

namespace tern::smtp {

class ReplyParser {
  public:
    static constexpr std::size_t kMaxLine = 4096;  // octets of one reply line
    static constexpr std::size_t kMaxLines = 200;  // lines of one reply

    // Appends bytes from the server.
    void feed(std::string_view bytes);

    // The next complete reply, if one has arrived. Lines of a multi-line reply are joined
    // with '\n'; the enhanced status code, when each line has one, goes into Reply::status.
    std::optional<Reply> next();

    // True once the server sent something that is not an SMTP reply.
    bool broken() const { return broken_; }
    // True when bytes beyond the replies taken so far have arrived (part of a next reply).
    bool has_pending() const { return pos_ < buffer_.size() || !lines_.empty(); }
    const std::string& error() const { return error_; }

  private:
    std::string buffer_;
    std::size_t pos_ = 0;
    std::vector<std::string> lines_;  // lines of the reply being read
    int code_ = 0;
    bool broken_ = false;
    std::string error_;
};

// "550 5.1.1 text" as one line (multi-line text joined with spaces), for logs and notices.
std::string reply_line(const Reply& reply);

}  // namespace tern::smtp
