// The TLS-Required header field of RFC 8689 section 3: whether a message's header section asks,
// with "TLS-Required: No", that the recipient domain's TLS policy (MTA-STS, DANE) be ignored.
// The header section is untrusted message text.
#pragma once

#include <string_view>

namespace tern::message {

// True when `header_section` (the message text up to its empty line, or any prefix of the
// message) holds a TLS-Required field whose value is "No" (case-insensitive, folding and
// surrounding white space allowed). Fields with any other value are ignored.
bool tls_required_no(std::string_view header_section);

}  // namespace tern::message
