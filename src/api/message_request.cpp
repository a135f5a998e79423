// MessageRequest: reading the JSON of POST /api/v1/messages. Strict on purpose: an unknown field
// is an error (a misspelt "htlm" must not send a message without its HTML), and so is "raw" next
// to structured content.
#include "api/message_request.h"

#include <algorithm>

#include "base/base64.h"
#include "base/text.h"
#include "smtp/address.h"

namespace tern::api {
namespace {

using nlohmann::json;
using Error = std::unexpected<RequestError>;

struct TooDeep {};

Error error(std::string field, std::string message) {
    return std::unexpected(RequestError{std::move(field), std::move(message)});
}

std::string_view type_name(const json& v) {
    if (v.is_string()) return "a string";
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    return "null";
}

std::expected<std::string, RequestError> string_of(const json& v, const std::string& field) {
    if (!v.is_string()) return error(field, "must be a string, not " + std::string(type_name(v)));
    return v.get<std::string>();
}

std::expected<std::string, RequestError> address_of(const json& v, const std::string& field) {
    auto text = string_of(v, field);
    if (!text) return text;
    if (text->empty()) return error(field, "is empty");
    auto mailbox = smtp::parse_mailbox(*text, true);
    if (!mailbox) {
        if (mailbox.error() == smtp::PathError::kTooLong)
            return error(field, "is longer than RFC 5321 allows");
        return error(field, "is not an email address (local@domain)");
    }
    if (mailbox->domain.empty() || mailbox->domain.front() == '[')
        return error(field, "needs a domain name");
    return mailbox->str();
}

// "a@x" or {"address": "a@x", "name": "A"}.
std::expected<message::MailboxSpec, RequestError> mailbox_of(const json& v,
                                                             const std::string& field) {
    message::MailboxSpec spec;
    if (v.is_string()) {
        auto address = address_of(v, field);
        if (!address) return std::unexpected(address.error());
        spec.address = std::move(*address);
        return spec;
    }
    if (!v.is_object())
        return error(field, "must be an address or an object with \"address\" and \"name\"");
    for (const auto& [key, value] : v.items()) {
        if (key == "address") {
            auto address = address_of(value, field + ".address");
            if (!address) return std::unexpected(address.error());
            spec.address = std::move(*address);
        } else if (key == "name") {
            auto name = string_of(value, field + ".name");
            if (!name) return std::unexpected(name.error());
            spec.name = std::move(*name);
        } else {
            return error(field + "." + key, "unknown field");
        }
    }
    if (spec.address.empty()) return error(field + ".address", "is required");
    return spec;
}

std::expected<std::vector<RecipientSpec>, RequestError> recipients_of(const json& v,
                                                                      const RequestLimits& limits) {
    if (!v.is_array()) return error("to", "must be an array of recipients");
    if (v.empty()) return error("to", "needs at least one recipient");
    if (v.size() > limits.max_recipients)
        return error("to", "has " + std::to_string(v.size()) + " recipients; at most " +
                               std::to_string(limits.max_recipients) + " are allowed a request");
    std::vector<RecipientSpec> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::string field = "to[" + std::to_string(i) + "]";
        const json& item = v[i];
        RecipientSpec r;
        if (item.is_object()) {
            json plain = json::object();
            for (const auto& [key, value] : item.items()) {
                if (key == "substitutions") {
                    if (!value.is_object())
                        return error(field + ".substitutions", "must be an object");
                    r.substitutions = value;
                } else {
                    plain[key] = value;
                }
            }
            auto mailbox = mailbox_of(plain, field);
            if (!mailbox) return std::unexpected(mailbox.error());
            r.address = std::move(mailbox->address);
            r.name = std::move(mailbox->name);
        } else {
            auto mailbox = mailbox_of(item, field);
            if (!mailbox) return std::unexpected(mailbox.error());
            r.address = std::move(mailbox->address);
        }
        out.push_back(std::move(r));
    }
    return out;
}

// Base64 as clients send it: line breaks and spaces allowed, else strict.
std::optional<std::string> decode_base64_lenient(std::string_view text) {
    std::string compact;
    compact.reserve(text.size());
    for (char c : text)
        if (c != '\r' && c != '\n' && c != ' ' && c != '\t') compact.push_back(c);
    return base64_decode(compact);
}

std::expected<std::vector<message::Attachment>, RequestError> attachments_of(
    const json& v, const RequestLimits& limits) {
    if (!v.is_array()) return error("attachments", "must be an array");
    std::vector<message::Attachment> out;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::string field = "attachments[" + std::to_string(i) + "]";
        const json& item = v[i];
        if (!item.is_object()) return error(field, "must be an object");
        message::Attachment a;
        bool has_content = false;
        for (const auto& [key, value] : item.items()) {
            std::string sub = field + "." + key;
            if (key == "filename" || key == "content_type" || key == "content_id") {
                auto text = string_of(value, sub);
                if (!text) return std::unexpected(text.error());
                (key == "filename"       ? a.filename
                 : key == "content_type" ? a.content_type
                                         : a.content_id) = std::move(*text);
            } else if (key == "content") {
                auto text = string_of(value, sub);
                if (!text) return std::unexpected(text.error());
                auto bytes = decode_base64_lenient(*text);
                if (!bytes) return error(sub, "is not valid base64");
                a.content = std::move(*bytes);
                has_content = true;
            } else if (key == "inline") {
                if (!value.is_boolean()) return error(sub, "must be true or false");
                a.inline_part = value.get<bool>();
            } else {
                return error(sub, "unknown field");
            }
        }
        if (!has_content) return error(field + ".content", "is required (base64)");
        if (a.inline_part && a.content_id.empty())
            return error(field + ".content_id", "is required for an inline part");
        if (!a.inline_part && a.filename.empty())
            return error(field + ".filename", "is required for an attachment");
        total += a.content.size();
        if (total > limits.max_message_size)
            return error(field, "the attachments are larger than the message size limit (" +
                                    std::to_string(limits.max_message_size) + " octets)");
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace

std::expected<json, RequestError> parse_json_body(std::string_view body, std::size_t max_depth) {
    try {
        json::parser_callback_t depth_check = [max_depth](int depth, json::parse_event_t event,
                                                          json&) {
            if ((event == json::parse_event_t::object_start ||
                 event == json::parse_event_t::array_start) &&
                static_cast<std::size_t>(depth) >= max_depth)
                throw TooDeep{};
            return true;
        };
        return json::parse(body, depth_check);
    } catch (const TooDeep&) {
        return error("body", "nested more than " + std::to_string(max_depth) + " levels deep");
    } catch (const json::exception& e) {
        // The parser's message may quote the offending octets: kept to ASCII, so that the
        // answer itself is valid JSON.
        std::string why = e.what();
        for (char& c : why)
            if (static_cast<unsigned char>(c) >= 0x80 || c < 0x20) c = '?';
        return error("body", "not valid JSON: " + why);
    }
}

std::expected<MessageRequest, RequestError> parse_message_request(std::string_view body,
                                                                  const RequestLimits& limits) {
    auto parsed = parse_json_body(body, limits.max_depth);
    if (!parsed) return std::unexpected(parsed.error());
    json doc = std::move(*parsed);
    if (!doc.is_object()) return error("body", "must be a JSON object");

    MessageRequest r;
    bool structured = false;  // a field that only structured content has
    std::string structured_field;
    for (const auto& [key, value] : doc.items()) {
        if (key == "from") {
            auto from = mailbox_of(value, "from");
            if (!from) return std::unexpected(from.error());
            r.from = std::move(*from);
        } else if (key == "sender") {
            auto sender = address_of(value, "sender");
            if (!sender) return std::unexpected(sender.error());
            r.sender = std::move(*sender);
        } else if (key == "to") {
            auto to = recipients_of(value, limits);
            if (!to) return std::unexpected(to.error());
            r.to = std::move(*to);
        } else if (key == "reply_to") {
            json list = value.is_array() ? value : json::array({value});
            for (std::size_t i = 0; i < list.size(); ++i) {
                auto m = mailbox_of(list[i],
                                    "reply_to" + (value.is_array() ? "[" + std::to_string(i) + "]"
                                                                   : std::string()));
                if (!m) return std::unexpected(m.error());
                r.reply_to.push_back(std::move(*m));
            }
        } else if (key == "subject" || key == "text" || key == "html" || key == "raw") {
            auto text = string_of(value, key);
            if (!text) return std::unexpected(text.error());
            (key == "subject" ? r.subject
             : key == "text"  ? r.text
             : key == "html"  ? r.html
                              : r.raw) = std::move(*text);
        } else if (key == "headers") {
            if (!value.is_object()) return error("headers", "must be an object of name: value");
            for (const auto& [name, field_value] : value.items()) {
                auto text = string_of(field_value, "headers." + name);
                if (!text) return std::unexpected(text.error());
                r.headers.emplace_back(name, std::move(*text));
            }
        } else if (key == "attachments") {
            auto attachments = attachments_of(value, limits);
            if (!attachments) return std::unexpected(attachments.error());
            r.attachments = std::move(*attachments);
        } else if (key == "substitutions") {
            if (!value.is_object()) return error("substitutions", "must be an object");
            r.substitutions = value;
        } else if (key == "unsubscribe") {
            if (!value.is_boolean()) return error("unsubscribe", "must be true or false");
            r.unsubscribe = value.get<bool>();
        } else {
            // A field named "" is named as JSON writes it, so that the error names something.
            return error(key.empty() ? std::string("\"\"") : key, "unknown field");
        }
        if (key != "sender" && key != "to" && key != "raw" && !structured) {
            structured = true;
            structured_field = key;
        }
    }
    if (r.to.empty()) return error("to", "is required");
    r.templated = !r.substitutions.is_null() ||
                  std::any_of(r.to.begin(), r.to.end(),
                              [](const RecipientSpec& t) { return !t.substitutions.is_null(); });
    if (doc.contains("raw")) {
        if (structured)
            return error(structured_field, "cannot be given with \"raw\" (the whole message)");
        if (r.templated) return error("to", "substitutions cannot be given with \"raw\"");
        if (r.raw.empty()) return error("raw", "is empty");
        if (r.raw.size() > limits.max_message_size)
            return error("raw", "is larger than the message size limit (" +
                                    std::to_string(limits.max_message_size) + " octets)");
        return r;
    }
    if (r.unsubscribe)
        for (const auto& [name, value] : r.headers)
            if (ascii_iequals(name, "List-Unsubscribe") ||
                ascii_iequals(name, "List-Unsubscribe-Post"))
                return error("headers." + name, "cannot be given with \"unsubscribe\"");
    if (r.from.address.empty()) return error("from", "is required");
    if (r.text.empty() && r.html.empty()) return error("text", "a text or html body is required");
    std::uint64_t content = r.text.size() + r.html.size();
    for (const auto& a : r.attachments)
        content += a.content.size();
    if (content > limits.max_message_size)
        return error("text",
                     "text, html and attachments are larger than the message size "
                     "limit (" +
                         std::to_string(limits.max_message_size) + " octets)");
    return r;
}

}  // namespace tern::api
