// The addresses of an RFC 5322 address-list header field (To, Cc, Bcc, Resent-To...): what
// `sendmail -t` sends to. Display names, angle addresses, groups ("team: a@x, b@y;"), comments
// (nested) and quoted strings are understood, folded lines too; obsolete route addresses
// ("<@relay:user@x>") give their final address.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::message {

struct AddressList {
    std::vector<std::string> addresses;  // each "local@domain" as written (quotes kept)
    std::vector<std::string> invalid;    // pieces that are no address, without their comments
};

// The addresses of `value` (a header field's value, after the colon), in order.
AddressList parse_address_list(std::string_view value);

// The value of each field named `name` (any case) among `fields` (raw "Name: value\r\n"
// fields, folded lines included), unfolded.
std::vector<std::string> field_values(const std::vector<std::string>& fields,
                                      std::string_view name);

}  // namespace tern::message
