// MessageRequest: the JSON body of POST /api/v1/messages (docs/api.md), read and checked field by
// field before anything is spooled: every error names the field, so a client knows what to fix.
#pragma once

#include <cstdint>
#include <expected>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message/mime_builder.h"

namespace tern::api {

struct RecipientSpec {
    std::string address;           // a mailbox, checked (RFC 5321, UTF-8 allowed: RFC 6531)
    std::string name;              // display name for the To field; may be empty
    nlohmann::json substitutions;  // this recipient's template values: an object, or null
};

struct MessageRequest {
    message::MailboxSpec from;                   // the From field
    std::string sender;                          // envelope sender; from.address if absent
    std::vector<RecipientSpec> to;               // at least one
    std::vector<message::MailboxSpec> reply_to;  // Reply-To
    std::string subject;                         // UTF-8
    std::string text;                            // text/plain part; may be empty
    std::string html;                            // text/html part; may be empty
    std::vector<std::pair<std::string, std::string>> headers;  // extra fields, in request order
    std::vector<message::Attachment> attachments;
    nlohmann::json substitutions;  // template values for every recipient: an object, or null
    bool templated = false;        // substitutions given (here or per recipient): render Mustache
    bool unsubscribe = false;      // List-Unsubscribe (one-click, RFC 8058) per recipient
    std::string raw;               // a whole RFC 5322 message instead of the fields above
};

struct RequestLimits {
    std::size_t max_recipients = 10000;
    std::size_t max_depth = 32;                         // nesting of JSON arrays and objects
    std::uint64_t max_message_size = 35 * 1024 * 1024;  // raw text, or decoded attachments together
};

struct RequestError {
    std::string field;    // "to[3].address", "attachments[0].content", "body" for the JSON itself
    std::string message;  // why, for a person
};

// The JSON document of a request's body, arrays and objects nested at most `max_depth` deep
// (the parser recurses), or what is wrong with it (field "body").
std::expected<nlohmann::json, RequestError> parse_json_body(std::string_view body,
                                                            std::size_t max_depth);

// The request in `body` (JSON), or what is wrong with it: not JSON (broken UTF-8 included), too
// deeply nested, an unknown or misspelt field, a wrong type, a missing field, an invalid
// address, bad base64, over a limit, or "raw" together with structured content.
std::expected<MessageRequest, RequestError> parse_message_request(std::string_view body,
                                                                  const RequestLimits& limits);

}  // namespace tern::api
