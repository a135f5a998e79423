// The MIME message composer: checks every input that becomes header text, then writes the header
// fields and the part tree. Input is untrusted JSON content from an API client.
#include "message/mime_builder.h"

#include <algorithm>
#include <array>
#include <random>

#include "base/base64.h"
#include "base/text.h"
#include "message/header_text.h"
#include "message/received.h"

namespace tern::message {
namespace {

constexpr std::size_t kEncodedWord = 75;   // RFC 2047 section 2
constexpr std::size_t kWordOverhead = 12;  // "=?utf-8?B?" and "?="
constexpr std::size_t kQpLine = 76;        // RFC 2045 section 6.7 rule 5
constexpr std::size_t kBase64Line = 76;    // RFC 2045 section 6.8
constexpr std::size_t kBoundaryHex = 24;
constexpr std::string_view kBoundaryPrefix = "=_tern_";  // "=_" never occurs in QP or base64

using Check = std::expected<void, ComposeError>;

std::unexpected<ComposeError> refuse(std::string field, std::string message) {
    return std::unexpected(ComposeError{std::move(field), std::move(message)});
}

bool is_printable_ascii(std::string_view text) {
    return std::ranges::all_of(text, [](char c) { return c >= 0x20 && c <= 0x7E; });
}

// The check every value bound for a header passes: a CR, LF or NUL could end the field (or the
// header) early and start one the client chose, so none may reach the output.
Check check_header_text(const std::string& field, std::string_view value) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        return refuse(field, "must not contain CR, LF or NUL");
    if (!is_utf8(value)) return refuse(field, "is not valid UTF-8");
    return {};
}

// A Message-ID or Content-ID without its <>: one word of printable ASCII.
bool is_id_text(std::string_view id) {
    return !id.empty() && id.size() <= kMaxMessageId && std::ranges::all_of(id, [](char c) {
        return c >= 33 && c <= 126 && c != '<' && c != '>';
    });
}

std::string id_rule() {
    return "must be 1 to " + std::to_string(kMaxMessageId) +
           " printable ASCII characters without spaces or <>";
}

// RFC 2045 token: printable ASCII but space and tspecials.
bool is_token(std::string_view s) {
    constexpr std::string_view tspecials = "()<>@,;:\\\"/[]?=";
    return !s.empty() && std::ranges::all_of(s, [&](char c) {
        return c > 0x20 && c < 0x7F && tspecials.find(c) == std::string_view::npos;
    });
}

// RFC 5322 atext: what a display-name word may hold without quoting.
bool is_atext(char c) {
    constexpr std::string_view extra = "!#$%&'*+-/=?^_`{|}~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
}

// True when wrap_words gives `text` back unchanged on unfolding and no decoder could mistake a
// word of it for an encoded-word: it collapses runs of spaces and cuts only huge words.
bool folds_unchanged(std::string_view text) {
    if (!is_printable_ascii(text) || text.find("  ") != std::string_view::npos ||
        text.find("=?") != std::string_view::npos)
        return false;
    if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) return false;
    std::size_t word = 0;
    for (char c : text) {
        word = c == ' ' ? 0 : word + 1;
        if (word > kFoldLine - 1) return false;
    }
    return true;
}

// Encoded-words for `utf8`, the first at most `first_max` octets so it can share a line with the
// field name, the others kEncodedWord. A word holds whole UTF-8 characters; an invalid octet
// (refused by compose, possible from other callers) counts as a character of its own.
std::string encoded_words(std::string_view utf8, std::size_t first_max) {
    std::size_t max = std::clamp<std::size_t>(first_max, kWordOverhead + 8, kEncodedWord);
    std::string out;
    std::size_t i = 0;
    while (i < utf8.size()) {
        const std::size_t room = (max - kWordOverhead) / 4 * 3;
        std::size_t end = i;
        while (end < utf8.size()) {
            std::size_t n = std::max<std::size_t>(utf8_sequence_length(utf8, end), 1);
            if (end + n - i > room) break;
            end += n;
        }
        if (!out.empty()) out += ' ';
        out += "=?utf-8?B?" + base64_encode(utf8.substr(i, end - i)) + "?=";
        i = end;
        max = kEncodedWord;
    }
    return out;
}

// Room left on the first line of field `name` for its first word.
std::size_t first_room(std::string_view name) {
    return name.size() + 2 < kFoldLine ? kFoldLine - name.size() - 2 : 0;
}

// RFC 5322 quoted-string (also the quoted-string of MIME parameters, RFC 2045 section 5.1).
std::string quoted_string(std::string_view ascii) {
    std::string out = "\"";
    for (char c : ascii) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

// A display name as an RFC 5322 phrase: atoms, a quoted-string, or encoded-words.
std::string phrase(std::string_view name, std::size_t first_max) {
    if (!folds_unchanged(name)) return encoded_words(name, first_max);
    if (std::ranges::all_of(name, [](char c) { return c == ' ' || is_atext(c); }))
        return std::string(name);
    return quoted_string(name);
}

std::string mailbox(const MailboxSpec& m, std::size_t first_max) {
    if (m.name.empty()) return m.address;
    return phrase(m.name, first_max) + " <" + m.address + ">";
}

std::string address_field(std::string_view name, const std::vector<MailboxSpec>& list) {
    std::string value;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0) value += ", ";
        value += mailbox(list[i], i == 0 ? first_room(name) : kEncodedWord);
    }
    return fold_header(name, value);
}

Check check_mailbox(const MailboxSpec& m, const std::string& field) {
    if (auto ok = check_header_text(field + ".name", m.name); !ok) return ok;
    if (auto ok = check_header_text(field + ".address", m.address); !ok) return ok;
    if (m.address.empty()) return refuse(field + ".address", "is empty");
    if (m.address.size() > kMaxMailAddress)
        return refuse(field + ".address",
                      "is longer than " + std::to_string(kMaxMailAddress) + " octets");
    auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; };
    if (std::ranges::any_of(m.address, control))
        return refuse(field + ".address", "must not contain control characters");
    return {};
}

Check check_mailboxes(const std::vector<MailboxSpec>& list, std::string_view field) {
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (auto ok = check_mailbox(list[i], std::string(field) + "[" + std::to_string(i) + "]");
            !ok)
            return ok;
    }
    return {};
}

// The fields compose writes itself: a second copy from the client would contradict them (two
// From fields, a Bcc that reveals recipients, a Content-Type that breaks the MIME structure);
// and the fields only a server writes (trace fields, results of checks, signatures), which a
// client could forge (a Sender of another domain, an Authentication-Results saying "pass").
bool owned_field(std::string_view name) {
    constexpr std::array<std::string_view, 18> owned = {
        "from",           "to",           "cc",           "bcc",           "reply-to",
        "subject",        "date",         "message-id",   "mime-version",  "sender",
        "return-path",    "received",     "delivered-to", "x-original-to", "authentication-results",
        "dkim-signature", "received-spf", "x-tern-score"};
    std::string lower = ascii_lower(name);
    return lower.starts_with("content-") || lower.starts_with("resent-") ||
           lower.starts_with("arc-") ||
           std::ranges::find(owned, std::string_view(lower)) != owned.end();
}

// Printable ASCII (and tab) goes as-is, as structured fields (List-Unsubscribe) need; anything
// else is unstructured text for a person and becomes encoded-words.
bool value_as_is(std::string_view value) {
    return std::ranges::all_of(value, [](char c) { return c == '\t' || (c >= 0x20 && c <= 0x7E); });
}

Check check_extra_header(const std::pair<std::string, std::string>& h, std::size_t index) {
    const auto& [name, value] = h;
    bool name_ok =
        !name.empty() && name.size() <= kFoldLine - 2 &&
        std::ranges::all_of(name, [](char c) { return c >= 33 && c <= 126 && c != ':'; });
    if (!name_ok)
        return refuse("headers[" + std::to_string(index) + "]",
                      "a field name is 1 to 76 printable ASCII characters without ':'");
    const std::string field = "headers." + name;
    if (owned_field(name)) return refuse(field, "is written by the composer and cannot be set");
    if (auto ok = check_header_text(field, value); !ok) return ok;
    if (!value_as_is(value)) return {};
    // A word that no fold can fit under the hard limit would be cut, changing the value.
    std::size_t word = 0;
    for (char c : value) {
        word = c == ' ' ? 0 : word + 1;
        if (word + name.size() + 2 > kMaxLine)
            return refuse(field, "has a word too long for a header line");
    }
    return {};
}

std::string extra_field(std::string_view name, std::string_view value) {
    return fold_header(
        name, value_as_is(value) ? std::string(value) : encoded_words(value, first_room(name)));
}

Check check_attachment(const Attachment& a, std::size_t index, bool html) {
    const std::string field = "attachments[" + std::to_string(index) + "]";
    if (auto ok = check_header_text(field + ".filename", a.filename); !ok) return ok;
    if (a.filename.size() > kMaxFilename)
        return refuse(field + ".filename",
                      "is longer than " + std::to_string(kMaxFilename) + " octets");
    if (auto ok = check_header_text(field + ".content_type", a.content_type); !ok) return ok;
    if (!a.content_type.empty()) {
        std::size_t slash = a.content_type.find('/');
        if (slash == std::string::npos || !is_token(a.content_type.substr(0, slash)) ||
            !is_token(a.content_type.substr(slash + 1)))
            return refuse(field + ".content_type", "must be a MIME type such as application/pdf");
        // RFC 2046 sections 5.1 and 5.2: composite types may not be base64, and a multipart
        // leaf without a boundary would be unreadable.
        std::string top = ascii_lower(a.content_type.substr(0, slash));
        if (top == "multipart" || top == "message")
            return refuse(field + ".content_type",
                          "multipart/* and message/* cannot be attached; use "
                          "application/octet-stream");
    }
    if (auto ok = check_header_text(field + ".content_id", a.content_id); !ok) return ok;
    if (!a.content_id.empty() && !is_id_text(a.content_id))
        return refuse(field + ".content_id", id_rule());
    if (a.inline_part && html && a.content_id.empty())
        return refuse(field + ".content_id", "an inline part needs a content id");
    return {};
}

Check check_composition(const Composition& c) {
    if (c.from.address.empty()) return refuse("from", "a sender address is required");
    if (auto ok = check_mailbox(c.from, "from"); !ok) return ok;
    if (auto ok = check_mailboxes(c.to, "to"); !ok) return ok;
    if (auto ok = check_mailboxes(c.cc, "cc"); !ok) return ok;
    if (auto ok = check_mailboxes(c.reply_to, "reply_to"); !ok) return ok;
    if (auto ok = check_header_text("subject", c.subject); !ok) return ok;
    if (!is_id_text(c.message_id)) return refuse("message_id", id_rule());
    for (std::size_t i = 0; i < c.headers.size(); ++i) {
        if (auto ok = check_extra_header(c.headers[i], i); !ok) return ok;
    }
    if (c.text.empty() && c.html.empty()) return refuse("text", "a text or html body is required");
    if (!is_utf8(c.text)) return refuse("text", "is not valid UTF-8");
    if (!is_utf8(c.html)) return refuse("html", "is not valid UTF-8");
    for (std::size_t i = 0; i < c.attachments.size(); ++i) {
        if (auto ok = check_attachment(c.attachments[i], i, !c.html.empty()); !ok) return ok;
    }
    return {};
}

// A MIME entity: its header lines (each ending in CRLF) and its body, which ends in CRLF (the
// last line's end: the CRLF before a boundary delimiter belongs to the delimiter, RFC 2046
// section 5.1.1, so multipart() writes one more).
struct Part {
    std::string headers;
    std::string body;
};

std::string crlf_lines(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (text[i] == '\n') {
            out += "\r\n";
        } else {
            out += text[i];
        }
    }
    return out;
}

// 7bit (RFC 2045 section 2.7) allows neither octets above 127, nor NUL, nor lines past 998.
bool fits_7bit(std::string_view crlf_text) {
    if (!is_ascii(crlf_text) || crlf_text.find('\0') != std::string_view::npos) return false;
    std::size_t start = 0;
    while (start < crlf_text.size()) {
        std::size_t end = crlf_text.find("\r\n", start);
        if (end == std::string_view::npos) end = crlf_text.size();
        if (end - start > kMaxLine) return false;
        start = end + 2;
    }
    return true;
}

Part text_part(std::string_view subtype, std::string_view text) {
    std::string body = crlf_lines(text);
    bool seven = fits_7bit(body);
    if (!seven) body = quoted_printable(body);
    if (!body.ends_with("\r\n")) body += "\r\n";
    return {"Content-Type: text/" + std::string(subtype) + "; charset=utf-8\r\n" +
                "Content-Transfer-Encoding: " + (seven ? "7bit" : "quoted-printable") + "\r\n",
            std::move(body)};
}

// RFC 2231 section 4: octets outside attribute-char as %XX.
std::string percent_encoded(std::string_view bytes) {
    constexpr std::string_view hex = "0123456789ABCDEF";
    constexpr std::string_view allowed = "!#$&+-.^_`|~";
    std::string out;
    for (char ch : bytes) {
        auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            allowed.find(ch) != std::string_view::npos) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0F];
        }
    }
    return out;
}

Part attachment_part(const Attachment& a, bool as_inline) {
    std::string type = a.content_type.empty() ? "application/octet-stream" : a.content_type;
    std::string disposition = as_inline ? "inline" : "attachment";
    Part part;
    if (a.filename.empty()) {
        part.headers = "Content-Type: " + type + "\r\n";
        part.headers += "Content-Disposition: " + disposition + "\r\n";
    } else if (is_printable_ascii(a.filename)) {
        // Parameters go on lines of their own so no fold ever falls inside the quoted name.
        std::string quoted = quoted_string(a.filename);
        part.headers = "Content-Type: " + type + ";\r\n name=" + quoted + "\r\n";
        part.headers += "Content-Disposition: " + disposition + ";\r\n filename=" + quoted + "\r\n";
    } else {
        // RFC 2231 for readers that know it; name= with encoded-words for those that do not.
        std::string words = encoded_words(a.filename, kFoldLine - 8);
        part.headers = "Content-Type: " + type + ";\r\n";
        part.headers += wrap_words("", "name=\"" + words + "\"", " ", kFoldLine) + "\r\n";
        part.headers += "Content-Disposition: " + disposition + ";\r\n filename*=utf-8''" +
                        percent_encoded(a.filename) + "\r\n";
    }
    if (as_inline) part.headers += "Content-ID: <" + a.content_id + ">\r\n";
    part.headers += "Content-Transfer-Encoding: base64\r\n";
    part.body = a.content.empty() ? "\r\n" : base64_lines(a.content);
    return part;
}

std::string new_boundary() {
    std::random_device random;
    std::string raw;
    while (raw.size() < kBoundaryHex / 2) {
        unsigned value = random();
        for (int i = 0; i < 4 && raw.size() < kBoundaryHex / 2; ++i, value >>= 8)
            raw += static_cast<char>(value & 0xFF);
    }
    return std::string(kBoundaryPrefix) + hex_lower(raw);
}

// A multipart entity of `parts` (RFC 2046 section 5.1.1). `type` is the subtype with any
// parameters other than the boundary, e.g. `related; type="text/html"`.
Part multipart(std::string_view type, const std::vector<Part>& parts) {
    std::vector<std::string> rendered;
    for (const Part& p : parts)
        rendered.push_back(p.headers + "\r\n" + p.body);
    std::string boundary;
    do {
        boundary = new_boundary();
    } while (std::ranges::any_of(
        rendered, [&](const std::string& r) { return r.find(boundary) != std::string::npos; }));
    Part out;
    out.headers =
        "Content-Type: multipart/" + std::string(type) + ";\r\n boundary=\"" + boundary + "\"\r\n";
    for (const std::string& r : rendered)
        out.body += "--" + boundary + "\r\n" + r + "\r\n";
    out.body += "--" + boundary + "--\r\n";
    return out;
}

Part body_tree(const Composition& c) {
    std::vector<Part> related, mixed;
    for (const Attachment& a : c.attachments) {
        // Without html nothing can refer to an inline part, so it is offered as a file.
        if (a.inline_part && !c.html.empty()) {
            related.push_back(attachment_part(a, true));
        } else {
            mixed.push_back(attachment_part(a, false));
        }
    }
    // The images belong to the html (RFC 2387): related { html, images }, so that a reader
    // that shows the text alternative shows no stray images.
    Part html;
    if (!c.html.empty()) {
        html = text_part("html", c.html);
        if (!related.empty()) {
            related.insert(related.begin(), std::move(html));
            html = multipart("related; type=\"text/html\"", related);
        }
    }
    Part body;
    if (c.html.empty()) {
        body = text_part("plain", c.text);
    } else if (c.text.empty()) {
        body = std::move(html);
    } else {
        // RFC 2046 section 5.1.4: the last alternative is the preferred one.
        body = multipart("alternative", {text_part("plain", c.text), std::move(html)});
    }
    if (!mixed.empty()) {
        mixed.insert(mixed.begin(), std::move(body));
        body = multipart("mixed", mixed);
    }
    return body;
}

}  // namespace

std::string encode_words(std::string_view utf8) {
    return folds_unchanged(utf8) ? std::string(utf8) : encoded_words(utf8, kEncodedWord);
}

std::string quoted_printable(std::string_view bytes) {
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    std::size_t start = 0;
    while (start <= bytes.size()) {
        std::size_t end = bytes.find("\r\n", start);
        bool last = end == std::string_view::npos;
        if (last) end = bytes.size();
        // Each octet of the line as its literal or =XX token.
        std::vector<std::string> tokens;
        for (std::size_t i = start; i < end; ++i) {
            auto c = static_cast<unsigned char>(bytes[i]);
            bool blank = c == ' ' || c == '\t';
            bool literal = (c >= 33 && c <= 126 && c != '=') || (blank && i + 1 < end);
            if (literal) {
                tokens.emplace_back(1, static_cast<char>(c));
            } else {
                tokens.push_back({'=', hex[c >> 4], hex[c & 0x0F]});
            }
        }
        std::size_t left = 0;
        for (const auto& t : tokens)
            left += t.size();
        std::size_t line = 0;
        for (const auto& t : tokens) {
            // The rest of the line may use all 76 octets; a soft break needs one for its "=".
            if (line + left > kQpLine && line + t.size() > kQpLine - 1) {
                out += "=\r\n";
                line = 0;
            }
            out += t;
            line += t.size();
            left -= t.size();
        }
        if (last) break;
        out += "\r\n";
        start = end + 2;
    }
    return out;
}

std::string base64_lines(std::string_view bytes) {
    std::string flat = base64_encode(bytes);
    std::string out;
    out.reserve(flat.size() + flat.size() / kBase64Line * 2 + 2);
    for (std::size_t i = 0; i < flat.size(); i += kBase64Line) {
        out.append(flat, i, kBase64Line);
        out += "\r\n";
    }
    return out;
}

std::expected<std::string, ComposeError> compose(const Composition& c) {
    if (auto ok = check_composition(c); !ok) return std::unexpected(ok.error());
    std::string out = fold_header("Date", rfc5322_date(c.date));
    out += address_field("From", {c.from});
    if (!c.reply_to.empty()) out += address_field("Reply-To", c.reply_to);
    // RFC 5322 section 3.6.3: a group with no members says the recipients are hidden.
    out += c.to.empty() ? "To: undisclosed-recipients:;\r\n" : address_field("To", c.to);
    if (!c.cc.empty()) out += address_field("Cc", c.cc);
    out += fold_header("Subject", folds_unchanged(c.subject)
                                      ? c.subject
                                      : encoded_words(c.subject, first_room("Subject")));
    out += fold_header("Message-ID", "<" + c.message_id + ">");
    out += "MIME-Version: 1.0\r\n";
    for (const auto& [name, value] : c.headers)
        out += extra_field(name, value);
    Part top = body_tree(c);
    out += top.headers;
    out += "\r\n";
    out += top.body;
    return out;
}

}  // namespace tern::message
