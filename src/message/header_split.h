// A message file's text cut the way the pipeline hands a message to its stages: the header
// fields whole and raw (folds kept, each ending CRLF), then the body. For the tools that read a
// message from a file or standard input (tern mailauth sign/verify).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::message {

struct SplitMessage {
    std::vector<std::string> fields;  // top first, each ending CRLF
    std::string_view body;            // after the empty line; a view into the text given
};

// Cuts `text` (CRLF line ends) at the first empty line; a line starting with a space or a tab
// continues the field before it. Text with no empty line is all header and no body.
SplitMessage split_header(std::string_view text);

// `text` with every bare LF made CRLF (a file written with Unix line ends); CRLF stays.
std::string to_crlf(std::string_view text);

// True when `text` has a bare LF (not preceded by CR).
bool has_bare_lf(std::string_view text);

}  // namespace tern::message
