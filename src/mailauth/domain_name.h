// Domain names as DMARC compares them: in A-label form (RFC 5890), lower case, without a
// trailing dot, split into labels counted from the right. Input is untrusted message text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tern::mailauth {

// `domain` as a lower-case A-label name ("Bücher.Example." -> "xn--bcher-kva.example"), or
// nullopt when it is not a usable DNS name: empty, an empty label, a label over 63 octets, a name
// over 253, octets other than letters, digits, '-' and '_', or a U-label IDNA2008 refuses.
std::optional<std::string> to_a_label(std::string_view domain);

// How many labels `domain` has ("mail.example.com" -> 3; "" -> 0).
std::size_t label_count(std::string_view domain);

// The last `n` labels of `domain` ("a.b.example.com", 2 -> "example.com"); all of it when it has
// no more than `n`.
std::string_view last_labels(std::string_view domain, std::size_t n);

// True when `domain` is `ancestor` or a name below it (case-insensitive, label-wise).
bool is_same_or_below(std::string_view domain, std::string_view ancestor);

}  // namespace tern::mailauth
