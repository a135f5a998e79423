// Key files through open(2) for the mode and O_EXCL; everything else through the standard
// library.
#include "cli/tool_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <iterator>

#include "base/unique_fd.h"

namespace tern::cli {

void read_message(InputMessage& out) {
    out.input.assign(std::istreambuf_iterator<char>(std::cin), {});
    out.unix_lines = message::has_bare_lf(out.input);
    out.text = out.unix_lines ? message::to_crlf(out.input) : out.input;
    out.split = message::split_header(out.text);
}

std::string with_lf(std::string text) {
    std::erase(text, '\r');
    return text;
}

}  // namespace tern::cli
