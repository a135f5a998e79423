// Base64 (RFC 4648 section 4), strict: one spelling per octet string. Used by SASL (auth/) and
// by DKIM (mailauth/), whose b=, bh= and p= values are base64 with folding white space removed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tern {

// Standard base64 (RFC 4648 section 4) with padding.
std::string base64_encode(std::string_view data);

// Strict decoding: the alphabet, padding only at the end, length a multiple of 4, no
// whitespace, unused bits zero. Anything else is nullopt.
std::optional<std::string> base64_decode(std::string_view text);

// base64url without padding (RFC 4648 section 5, RFC 7515 section 2): ACME's JWS, one-click
// unsubscribe tokens.
std::string base64url_encode(std::string_view data);

// Its strict decoding: the URL alphabet ('-' and '_', never '+', '/' or '='), no padding,
// otherwise as base64_decode. Anything else is nullopt.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tern
