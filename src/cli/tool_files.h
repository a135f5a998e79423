// Files and standard input for the mail authentication tools: DKIM private keys read and written
// as the daemon does (mailauth/stages/signing_keys.h) and a message read from standard input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unix_time.h"
#include "mailauth/dkim_keys.h"
#include "mailauth/stages/signing_keys.h"
#include "message/header_split.h"

namespace tern::cli {

// Key files as the daemon reads and writes them.
using mailauth::load_private_key;
using mailauth::write_new_file;

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

// `text` (header fields Tern wrote) with its CRLFs made LF: for a terminal, or for input that came
// with Unix line ends.
std::string with_lf(std::string text);

// The current time in unix seconds (t=, x=, %{t}).
using tern::unix_now;

}  // namespace tern::cli
