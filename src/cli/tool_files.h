// Files and standard input for the mail authentication tools: DKIM private keys read and written
// (mode 0600, never over an existing file) and a message read from standard input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "mailauth/dkim_keys.h"
#include "message/header_split.h"

namespace tern::cli {

// A PEM private key (RSA or Ed25519); the error names the file.
Result<mailauth::PrivateKey> load_private_key(const std::string& path);

// Creates `path` with mode 0600 and O_EXCL, writes `data` and syncs it: an existing file (a key
// in use, or published) is never replaced; that failure has ErrorCode::kExists.
Result<void> write_new_file(const std::string& path, std::string_view data);

// A message from standard input: the text as read, with CRLF line ends, and cut into header
// fields and body as the pipeline hands them over.
struct InputMessage {
    std::string input;            // as read
    bool unix_lines = false;      // the input had bare LFs
    std::string text;             // with CRLF line ends
    message::SplitMessage split;  // views into `text`

    InputMessage() = default;
    InputMessage(const InputMessage&) = delete;
    InputMessage& operator=(const InputMessage&) = delete;
};

// Reads all of standard input into `out` (not movable: `split` points into it).
void read_message(InputMessage& out);

// The current time in unix seconds (t=, x=, %{t}).
std::int64_t unix_now();

}  // namespace tern::cli
