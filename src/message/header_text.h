// Header field text: cleaning untrusted values so they cannot break a header's structure, and
// folding long fields (RFC 5322 sections 2.1.1 and 2.2.3, RFC 6532 for UTF-8 values).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tern::message {

// Lines a generated header should stay within (excluding CRLF), and the hard limit of RFC 5322.
inline constexpr std::size_t kFoldLine = 78;
inline constexpr std::size_t kMaxLine = 998;

// `value` as one line of header text: CR, LF and TAB become spaces, other controls are dropped,
// runs of spaces shrink to one, and the ends are trimmed. Well-formed UTF-8 is kept when `utf8`
// is true; every other octet above 0x7F becomes '?'.
std::string clean_header_text(std::string_view value, bool utf8);

// True when every octet of `text` is below 0x80.
bool is_ascii(std::string_view text);

// `start` followed by the words of `value`, each after a space, except that where a line would
// pass `width` octets the space is replaced by CRLF and `indent`. A word is cut only when it
// would not fit kMaxLine even on a line of its own. No CRLF is added at the end.
std::string wrap_words(std::string_view start, std::string_view value, std::string_view indent,
                       std::size_t width);

// "Name: value" folded at spaces into lines of at most kFoldLine octets where the words allow
// it and never more than kMaxLine, ending in CRLF. `value` should come from clean_header_text.
std::string fold_header(std::string_view name, std::string_view value);

// True when `text` is ASCII and well-formed UTF-8 sequences only (no character cut or invalid).
bool is_utf8(std::string_view text);

// Length of the well-formed UTF-8 sequence starting at text[i] when it encodes a non-ASCII
// character; 0 when the octets there are not one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace tern::message
