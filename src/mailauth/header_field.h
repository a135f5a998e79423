// Header fields as the pipeline hands them to the evaluators: whole and raw, "Name: value CRLF"
// with the value's folding kept. Input is untrusted message text.
#pragma once

#include <optional>
#include <string_view>

namespace tern::mailauth {

// The value of `raw` when its name is `name` (case-insensitive): the text after the colon,
// without the final CRLF; nullopt for another field or text that is not a header field.
std::optional<std::string_view> header_value(std::string_view raw, std::string_view name);

}  // namespace tern::mailauth
