// MimeReader: a received message read as a tree of MIME entities (RFC 2045, 2046), for the parts
// of Tern that look inside mail it takes in (delivery reports and complaint reports,
// docs/feedback.md). Lenient as mail readers are: LF or CRLF line ends, a missing closing
// boundary, unknown encodings taken as they are; bounded in depth and parts against hostile
// mail. Views point into the text given, which must outlive the entity.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tern::message {

struct MimeField {
    std::string name;   // as written
    std::string value;  // unfolded (each line end with its indent is one space), trimmed
};

// Header fields at the start of `text` up to the empty line (or the end). `rest`, when given,
// is set to what follows the empty line.
std::vector<MimeField> read_fields(std::string_view text, std::string_view* rest = nullptr);

// The value of the first field named `name` (ASCII case ignored); nullptr when none.
const std::string* find_field(const std::vector<MimeField>& fields, std::string_view name);

struct MimeLimits {
    std::size_t max_depth = 8;    // nested multiparts and message/rfc822 parts
    std::size_t max_parts = 200;  // entities in the whole tree
};

struct MimeEntity {
    std::vector<MimeField> fields;
    std::string type = "text/plain";  // "type/subtype" in lower case (RFC 2045 5.2 default)
    std::vector<std::pair<std::string, std::string>> params;  // names lower case, values unquoted
    std::string encoding;           // Content-Transfer-Encoding in lower case; empty when none
    std::string_view body;          // as in the message, not decoded
    std::vector<MimeEntity> parts;  // a multipart's parts; a message/rfc822's one message

    const std::string* field(std::string_view name) const { return find_field(fields, name); }
    // A parameter of Content-Type (name in lower case); empty when absent.
    std::string param(std::string_view name) const;
    // The body decoded from base64 or quoted-printable; other encodings as they are.
    std::string decoded() const;
};

// Reads `text` (a whole message) as its tree of entities.
MimeEntity read_mime(std::string_view text, const MimeLimits& limits = {});

// Quoted-printable (RFC 2045 6.7) decoded; a malformed "=" sequence is kept as it is.
std::string decode_quoted_printable(std::string_view text);

}  // namespace tern::message
