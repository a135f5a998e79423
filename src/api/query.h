// Query strings of the API's GET requests: a value by name, percent-decoded (RFC 3986; '+'
// stays '+', since it is common in addresses), and numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::api {

// `text` with %XX sequences decoded; nullopt when one is malformed or decodes to NUL.
std::optional<std::string> percent_decode(std::string_view text);

// The raw value of `name` in the query of `target` ("/path?a=1&b=2"); nullopt when absent.
std::optional<std::string_view> query_value(std::string_view target, std::string_view name);

// A decimal number without sign; nullopt for anything else.
std::optional<std::uint64_t> parse_number(std::string_view text);

}  // namespace tern::api
