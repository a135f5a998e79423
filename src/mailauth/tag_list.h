// Tag=value lists (RFC 6376 section 3.2), the syntax of DKIM-Signature fields, DKIM key records
// and the ARC fields: parsing with the folding white space rules, and the value helpers.
// Input is untrusted (a header field of a received message, or a DNS TXT record).
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::mailauth {

struct Tag {
    std::string_view name;      // as written; tag names are case-sensitive
    std::string_view value;     // without the white space at either end; inner FWS kept
    std::size_t raw_begin = 0;  // offset just after the '=' in the parsed text
    std::size_t raw_end = 0;    // offset of the ';' that ends the tag, or the end of the text
};

// The tags of `text` in order; views into `text`, which must outlive them. Fails (with a
// reason) on a tag name that is not ALPHA *(ALPHA / DIGIT / "_"), a missing '=', a character a
// value may not hold (controls other than folding white space), or a tag named twice, which
// invalidates the whole list. Empty entries between semicolons are skipped, as the deployed
// verifiers do. Octets above 0x7E are allowed in values (RFC 8616, UTF-8 in DKIM).
[[nodiscard]] std::expected<std::vector<Tag>, std::string> parse_tag_list(std::string_view text);

// The tag named `name`, or nullptr.
const Tag* find_tag(const std::vector<Tag>& tags, std::string_view name);

// `value` with every space, tab, CR and LF removed: base64 values (b=, bh=, p=) may be folded.
std::string without_fws(std::string_view value);

// True when `value` is one tval: no white space inside it (a=, c=, d=, s=, v=...).
bool is_single_token(std::string_view value);

// The items of a colon-separated list ("from : to:subject"), each trimmed of white space.
std::vector<std::string_view> split_colon_list(std::string_view value);

// dkim-quoted-printable (RFC 6376 section 2.11) decoded: "=XX" hex pairs become octets, white
// space is dropped; nullopt when an '=' is not followed by two hex digits.
std::optional<std::string> decode_dkim_quoted_printable(std::string_view value);

// A decimal number of at most `max_digits` digits; larger values saturate at UINT64_MAX (l=
// may have 76 digits). nullopt for anything that is not 1 to `max_digits` digits.
std::optional<std::uint64_t> parse_decimal(std::string_view value, std::size_t max_digits);

}  // namespace tern::mailauth
