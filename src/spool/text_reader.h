// TextReader: a spooled message's text as it is delivered: the text as received with the
// pipeline's header edits applied and its body replaced if a stage replaced it (docs/spool.md).
// Random access, like pread, so transports read it in whatever pieces they like.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "spool/message.h"

namespace tern::spool {

class TextReader {
  public:
    // Reads `message`'s text from `fd`, its open spool file. When the message has header edits
    // or a replaced body its received header section is read and edited here; failed() says if
    // that went wrong.
    TextReader(int fd, const Message& message);

    // Octets of the delivered text.
    std::uint64_t size() const { return head_.size() + (end_ - rest_); }

    // Up to `n` octets at `pos` of the delivered text; fewer only at its end or on a read error.
    std::size_t read_at(std::uint64_t pos, char* buf, std::size_t n) const;

    bool failed() const { return failed_; }

    // The delivered text is head() followed by rest_length() octets of the file at
    // rest_offset(): for writers that copy the file's part themselves.
    const std::string& head() const { return head_; }
    std::uint64_t rest_offset() const { return rest_; }
    std::uint64_t rest_length() const { return end_ - rest_; }

  private:
    int fd_;
    std::string head_;        // the edited header section and its separator; empty = no edits
    std::uint64_t rest_ = 0;  // file offset of the body (received or replacing it)
    std::uint64_t end_ = 0;   // file offset where the text ends
    bool failed_ = false;
};

}  // namespace tern::spool
