// Splitting a raw header field into name and value (RFC 5322 section 2.2, with the obsolete
// blanks before the colon of section 4.5).
#include "mailauth/header_field.h"

#include "base/text.h"

namespace tern::mailauth {

std::optional<std::string_view> header_value(std::string_view raw, std::string_view name) {
    std::size_t colon = raw.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view field_name = raw.substr(0, colon);
    while (!field_name.empty() && (field_name.back() == ' ' || field_name.back() == '\t'))
        field_name.remove_suffix(1);  // obs-optional allows blanks before the colon
    if (!ascii_iequals(field_name, name)) return std::nullopt;
    std::string_view value = raw.substr(colon + 1);
    if (value.ends_with("\r\n")) value.remove_suffix(2);
    return value;
}

}  // namespace tern::mailauth
