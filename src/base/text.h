// ASCII text helpers for the parsers of configuration files, DNS names and protocol words:
// case mapping that never touches non-ASCII octets, and trimming of blanks.
#pragma once

#include <string>
#include <string_view>

namespace tern {

// A copy with ASCII A-Z mapped to a-z (or the reverse); other octets unchanged.
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

// `s` without spaces and tabs at either end, and without a trailing CR.
std::string_view trim_blanks(std::string_view s);

}  // namespace tern
