// The MIME message composer of the HTTP sending API: structured content (addresses, subject,
// text and html bodies, attachments) in, a complete RFC 5322 + MIME message (RFC 2045-2047, 2231,
// 2387) out. Input is untrusted: nothing in it can add, end or split a header field.
#pragma once

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::message {

struct MailboxSpec {
    std::string name;     // display name, UTF-8, may be empty
    std::string address;  // addr-spec, validated by the caller (may hold UTF-8: RFC 6531)
};

struct Attachment {
    std::string filename;      // UTF-8; may be empty for inline parts
    std::string content_type;  // "application/pdf"; empty -> application/octet-stream
    std::string content;       // the decoded bytes (binary)
    bool inline_part = false;  // an inline image for the html part (multipart/related)
    std::string content_id;    // for inline parts: referenced as cid:... in the html; without <>
};

struct Composition {
    MailboxSpec from;
    std::vector<MailboxSpec> to;  // empty: "To: undisclosed-recipients:;"
    std::vector<MailboxSpec> cc;
    std::vector<MailboxSpec> reply_to;
    std::string subject;  // UTF-8
    std::string text;     // text/plain body, UTF-8; may be empty
    std::string html;     // text/html body, UTF-8; may be empty
    std::vector<std::pair<std::string, std::string>> headers;  // extra fields: name, UTF-8 value
    std::vector<Attachment> attachments;
    std::string message_id;  // without <>, made by the caller
    std::chrono::system_clock::time_point date;
};

struct ComposeError {
    std::string field;    // which input is wrong: "subject", "from.name", "to[2].address",
                          // "headers.X-Foo" (a bad value or a name the composer owns),
                          // "headers[3]" (a malformed name), "attachments[0].filename", "text"...
    std::string message;  // why, for a person
};

// Lengths, in octets, past which an input is refused rather than written.
inline constexpr std::size_t kMaxFilename = 255;     // an attachment's file name
inline constexpr std::size_t kMaxMailAddress = 254;  // an addr-spec (RFC 5321 path limit)
inline constexpr std::size_t kMaxMessageId = 250;    // a Message-ID or Content-ID without <>

// The whole message text with CRLF line ends, or what is wrong with the input. No Bcc field is
// ever written; every line is at most 998 octets and, where the words allow, at most 78.
std::expected<std::string, ComposeError> compose(const Composition& c);

// `utf8` as header text (RFC 2047): as-is when it is printable ASCII that folds back unchanged
// (single spaces, words of at most 77 octets, no "=?"), else "=?utf-8?B?...?=" words of at most
// 75 octets each, separated by single spaces, never splitting a UTF-8 character.
std::string encode_words(std::string_view utf8);

// `bytes` quoted-printable (RFC 2045 section 6.7): CRLF pairs stay hard line breaks, soft breaks
// ("=" CRLF) keep every line within 76 octets, and a space or tab before a line end is encoded.
std::string quoted_printable(std::string_view bytes);

// `bytes` in base64, in lines of 76 characters (the last may be shorter), each ending in CRLF.
std::string base64_lines(std::string_view bytes);

}  // namespace tern::message
