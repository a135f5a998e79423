// Delivery status notifications (RFC 3464, RFC 6522 multipart/report, RFC 6533 for SMTPUTF8).
// Diagnostics and addresses come from remote peers and senders, so every one is cleaned first.
#include "message/dsn.h"

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "message/header_text.h"
#include "message/received.h"

namespace tern::message {
namespace {

constexpr std::size_t kTextWidth = 72;  // line width of the readable part

std::string_view action_keyword(DsnAction action) {
    switch (action) {
        case DsnAction::kFailed:
            return "failed";
        case DsnAction::kDelayed:
            return "delayed";
        case DsnAction::kDelivered:
            return "delivered";
        case DsnAction::kRelayed:
            return "relayed";
        case DsnAction::kExpanded:
            return "expanded";
    }
    return "failed";
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// status-code of RFC 3464 section 2.3.4 (RFC 3463): class "." 1*3digit "." 1*3digit.
bool valid_status(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        std::size_t start = i;
        while (i < s.size() && is_digit(s[i]) && i - start < 3)
            ++i;
        if (i == start) return false;
        if (part == 0 && (i == s.size() || s[i++] != '.')) return false;
    }
    return i == s.size();
}

// The recipient's status, or the generic one of its action when the given one is malformed.
std::string status_of(const DsnRecipient& r) {
    if (valid_status(r.status)) return r.status;
    switch (r.action) {
        case DsnAction::kFailed:
            return "5.0.0";
        case DsnAction::kDelayed:
            return "4.0.0";
        default:
            return "2.0.0";
    }
}

// RFC 6533 section 3 EmbeddedUnicodeChar escapes: "\x{HEX}" for every non-ASCII character, and
// with `specials` also for the ASCII that utf-8-addr-xtext excludes (space, '+', '=', '\').
std::string utf8_addr_xtext(std::string_view addr, bool specials) {
    std::string out;
    for (std::size_t i = 0; i < addr.size();) {
        auto c = static_cast<unsigned char>(addr[i]);
        if (c < 0x80) {
            bool escape = specials && (c <= 0x20 || c == '+' || c == '=' || c == '\\' || c == 0x7F);
            out += escape ? fmt::format("\\x{{{:02X}}}", c) : std::string(1, static_cast<char>(c));
            ++i;
            continue;
        }
        std::size_t n = utf8_sequence_length(addr, i);
        if (n == 0) {  // clean_header_text has already replaced malformed octets
            out += '?';
            ++i;
            continue;
        }
        std::uint32_t code = c & (0xFF >> (n + 1));
        for (std::size_t k = 1; k < n; ++k)
            code = (code << 6) | (addr[i + k] & 0x3F);
        out += fmt::format("\\x{{{:X}}}", code);
        i += n;
    }
    return out;
}

// address-type ";" generic-address for Final-Recipient. RFC 6533: a non-ASCII address is of
// type utf-8, written as is in message/global-delivery-status and escaped in the 7-bit type.
std::string final_recipient_value(std::string_view address, bool smtputf8) {
    std::string addr = clean_header_text(address, true);
    if (is_ascii(addr)) return "rfc822; " + addr;
    return "utf-8; " + (smtputf8 ? addr : utf8_addr_xtext(addr, true));
}

// Original-Recipient from the ORCPT "addr-type;address", which is already in its encoded form.
std::string original_recipient_value(std::string_view orcpt, bool smtputf8) {
    std::size_t semi = orcpt.find(';');
    std::string type = semi == std::string_view::npos
                           ? std::string("rfc822")
                           : clean_header_text(orcpt.substr(0, semi), false);
    std::string addr =
        clean_header_text(semi == std::string_view::npos ? orcpt : orcpt.substr(semi + 1), true);
    if (type.empty() || type.find(' ') != std::string::npos) type = "rfc822";
    if (!is_ascii(addr)) {
        type = "utf-8";
        if (!smtputf8) addr = utf8_addr_xtext(addr, false);
    }
    return type + "; " + addr;
}

// A mailbox for From: or To:, in angle brackets, with nothing that could close them early.
std::string angle_address(std::string_view address, bool utf8) {
    std::string addr = clean_header_text(address, utf8);
    if (addr.size() >= 2 && addr.front() == '<' && addr.back() == '>') {
        addr = addr.substr(1, addr.size() - 2);
    }
    for (char& c : addr) {
        if (c == '<' || c == '>') c = '?';
    }
    return "<" + addr + ">";
}

bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The letters and digits of `text`, at most `limit` of them.
std::string alnum_only(std::string_view text, std::size_t limit) {
    std::string out;
    for (char c : text) {
        if (is_alnum(c) && out.size() < limit) out += c;
    }
    return out;
}

// msg-id of RFC 5322 section 3.6.4 in its common dot-atom form: "<" left "@" right ">".
bool valid_msg_id(std::string_view id) {
    if (id.size() < 5 || id.front() != '<' || id.back() != '>') return false;
    std::string_view inner = id.substr(1, id.size() - 2);
    std::size_t at = inner.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == inner.size()) return false;
    if (inner.find('@', at + 1) != std::string_view::npos) return false;
    for (char c : inner) {
        bool atext = is_alnum(c) ||
                     std::string_view("!#$%&'*+-/=?^_`{|}~.@").find(c) != std::string_view::npos;
        if (!atext) return false;
    }
    return true;
}

// The requested Message-ID when it is well formed, else a fresh one.
std::string message_id(const DsnRequest& request, std::chrono::system_clock::time_point now,
                       std::string_view host) {
    if (valid_msg_id(request.message_id)) return request.message_id;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    return fmt::format("<{}.{}.dsn@{}>", alnum_only(request.original_queue_id, 20), secs.count(),
                       host);
}

// `text` with every line ending in CRLF: a bare LF or CR would be a stray line end in the notice.
std::string with_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 50);
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

// The header section of a CRLF message: every line before the first empty one, with its CRLF.
std::string_view header_section(std::string_view message) {
    if (message.starts_with("\r\n")) return {};
    std::size_t end = message.find("\r\n\r\n");
    return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

std::uint64_t fnv1a(std::string_view data, std::uint64_t hash) {
    for (char c : data) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// A boundary (RFC 2046 section 5.1.1) that occurs in none of `parts`. It hashes the original,
// so a sender cannot plant it in the returned message; the loop guards against the rest.
std::string choose_boundary(const DsnRequest& request, std::chrono::system_clock::time_point now,
                            std::initializer_list<std::string_view> parts) {
    std::string qid = alnum_only(request.original_queue_id, 20);
    std::uint64_t hash = fnv1a(request.original, 0xcbf29ce484222325ULL);
    hash ^= static_cast<std::uint64_t>(now.time_since_epoch().count());
    for (unsigned attempt = 0;; ++attempt) {
        std::string boundary = fmt::format("=_tern_{}_{:016x}", qid, hash);
        if (attempt > 0) boundary += fmt::format("_{}", attempt);
        bool clash = false;
        for (std::string_view part : parts) {
            if (part.find(boundary) != std::string_view::npos) clash = true;
        }
        if (!clash) return boundary;
    }
}

std::string_view subject_of(const DsnRequest& request) {
    bool delayed = false;
    for (const DsnRecipient& r : request.recipients) {
        if (r.action == DsnAction::kFailed) return "Undelivered Mail Returned to Sender";
        if (r.action == DsnAction::kDelayed) delayed = true;
    }
    return delayed ? "Delayed Mail (still being retried)" : "Successful Mail Delivery Report";
}

// A paragraph of the readable part, wrapped, with a blank line after it.
std::string paragraph(std::string_view text) {
    std::size_t space = text.find(' ');
    return wrap_words(text.substr(0, space),
                      space == std::string_view::npos ? "" : text.substr(space + 1), "",
                      kTextWidth) +
           "\r\n\r\n";
}

std::string_view group_intro(DsnAction action) {
    switch (action) {
        case DsnAction::kFailed:
            return "Your message could not be delivered to the recipients below. The mail system "
                   "has given up on them and will not try again.";
        case DsnAction::kDelayed:
            return "Your message has not yet been delivered to the recipients below. The mail "
                   "system will keep trying; you do not need to send it again.";
        case DsnAction::kDelivered:
            return "Your message was delivered to the recipients below.";
        case DsnAction::kRelayed:
            return "Your message was passed on to the recipients below by a mail system that may "
                   "not send further reports.";
        case DsnAction::kExpanded:
            return "Your message was delivered to the recipients below, which forwarded it to "
                   "further addresses.";
    }
    return "";
}

// One recipient in the readable part: its address and what happened: "host X said: ..." only
// for a reply the remote host really sent; Tern's own account without it; a verdict first.
std::string recipient_text(const DsnRecipient& r) {
    std::string start = "<" + clean_header_text(r.final_recipient, true) + ">:";
    std::string detail;
    std::string said = clean_header_text(r.diagnostic, true);
    if (std::string host = clean_header_text(r.remote_mta, true); !host.empty() && !said.empty())
        said = "host " + host + " said: " + said;
    if (std::string verdict = clean_header_text(r.verdict, true); !verdict.empty()) {
        detail = verdict;
        if (!said.empty()) detail += "; the last attempt: " + said;
    } else {
        detail = said.empty() ? "status " + status_of(r) : said;
    }
    std::string out = wrap_words(start, detail, "    ", kTextWidth) + "\r\n";
    if (r.action == DsnAction::kDelayed && r.will_retry_until) {
        out += "    (the mail system will keep trying until " + rfc5322_date(*r.will_retry_until) +
               ")\r\n";
    }
    return out;
}

// What the third part holds.
enum class Returned { kNothing, kMessage, kHeaders, kHeadersTooLarge };

Returned returned_part(const DsnRequest& request) {
    if (request.original.empty()) return Returned::kNothing;
    if (!request.return_full) return Returned::kHeaders;
    if (request.max_returned != 0 && request.original.size() > request.max_returned) {
        return Returned::kHeadersTooLarge;
    }
    return Returned::kMessage;
}

std::string readable_part(const DsnRequest& request, Returned returned) {
    std::string text = paragraph("This is the mail system at host " +
                                 clean_header_text(request.reporting_mta, true) + ".");
    for (DsnAction action : {DsnAction::kFailed, DsnAction::kDelayed, DsnAction::kDelivered,
                             DsnAction::kRelayed, DsnAction::kExpanded}) {
        std::string group;
        for (const DsnRecipient& r : request.recipients) {
            if (r.action == action) group += recipient_text(r);
        }
        if (group.empty()) continue;
        text += paragraph(group_intro(action));
        text += group + "\r\n";
    }
    switch (returned) {
        case Returned::kNothing:
            break;
        case Returned::kMessage:
            text += paragraph("A copy of your message is attached.");
            break;
        case Returned::kHeaders:
            text += paragraph("The headers of your message are attached.");
            break;
        case Returned::kHeadersTooLarge:
            text += paragraph(
                "Your message was too large to return in full; its headers are attached.");
            break;
    }
    text += paragraph(
        "If you need help, write to the postmaster of this mail system and "
        "include this report.");
    return text;
}

// The message/delivery-status body: per-message fields, then one group per recipient, each
// group after an empty line (RFC 3464 section 2.1).
std::string status_part(const DsnRequest& request) {
    const bool utf8 = request.smtputf8;
    std::string out =
        fold_header("Reporting-MTA", "dns; " + clean_header_text(request.reporting_mta, utf8));
    if (std::string qid = clean_header_text(request.original_queue_id, false); !qid.empty()) {
        out += fold_header("X-Tern-Queue-ID", qid);
    }
    if (std::string envid = clean_header_text(request.envelope_id, utf8); !envid.empty()) {
        out += fold_header("Original-Envelope-Id", envid);
    }
    out += fold_header("Arrival-Date", rfc5322_date(request.arrival_date));
    for (const DsnRecipient& r : request.recipients) {
        out += "\r\n";
        if (!clean_header_text(r.original_recipient, true).empty()) {
            out += fold_header("Original-Recipient",
                               original_recipient_value(r.original_recipient, utf8));
        }
        out += fold_header("Final-Recipient", final_recipient_value(r.final_recipient, utf8));
        out += fold_header("Action", action_keyword(r.action));
        out += fold_header("Status", status_of(r));
        if (std::string host = clean_header_text(r.remote_mta, utf8); !host.empty()) {
            out += fold_header("Remote-MTA", "dns; " + host);
        }
        if (std::string text = clean_header_text(r.diagnostic, utf8); !text.empty()) {
            out += fold_header("Diagnostic-Code", r.diagnostic_type + "; " + text);
        }
        if (r.last_attempt) out += fold_header("Last-Attempt-Date", rfc5322_date(*r.last_attempt));
        if (r.action == DsnAction::kDelayed && r.will_retry_until) {
            out += fold_header("Will-Retry-Until", rfc5322_date(*r.will_retry_until));
        }
    }
    return out;
}

// Content-Transfer-Encoding lines of a part: 8bit is declared when an octet needs it.
std::string encoding_header(std::string_view body) {
    return is_ascii(body) ? "" : "Content-Transfer-Encoding: 8bit\r\n";
}

}  // namespace

std::string build_dsn(const DsnRequest& request, std::chrono::system_clock::time_point now) {
    const bool utf8 = request.smtputf8;
    const Returned returned = returned_part(request);

    std::string text = readable_part(request, returned);
    std::string status = status_part(request);
    std::string original;
    if (returned != Returned::kNothing) {
        original = with_crlf(request.original);
        if (returned != Returned::kMessage) original.resize(header_section(original).size());
    }
    std::string boundary = choose_boundary(request, now, {text, status, original});

    std::string host;  // as a domain for the made-up From: and Message-ID
    for (char c : request.reporting_mta) {
        if (is_alnum(c) || c == '-' || c == '.' || c == '_') host += c;
    }
    std::string from = request.from.empty() ? "MAILER-DAEMON@" + host : request.from;

    std::string out;
    out += fold_header("From", "Mail Delivery System " + angle_address(from, utf8));
    out += fold_header("To", angle_address(request.to, utf8));
    out += fold_header("Subject", subject_of(request));
    out += fold_header("Date", rfc5322_date(now));
    out += fold_header("Message-ID", message_id(request, now, host));
    out += fold_header("Auto-Submitted", "auto-replied");
    out += "MIME-Version: 1.0\r\n";
    out +=
        fold_header("Content-Type",
                    "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
    bool eight_bit = !is_ascii(text) || !is_ascii(status) || !is_ascii(original);
    if (eight_bit) out += "Content-Transfer-Encoding: 8bit\r\n";
    out += "\r\nThis is a MIME-encapsulated message.\r\n";

    const std::string delimiter = "\r\n--" + boundary + "\r\n";
    out += delimiter;
    out += "Content-Description: Notification\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += encoding_header(text);
    out += "\r\n" + text;

    out += delimiter;
    out += "Content-Description: Delivery report\r\n";
    out += utf8 ? "Content-Type: message/global-delivery-status\r\n"
                : "Content-Type: message/delivery-status\r\n";
    out += encoding_header(status);
    out += "\r\n" + status;

    if (returned != Returned::kNothing) {
        out += delimiter;
        if (returned == Returned::kMessage) {
            out += "Content-Description: Returned message\r\n";
            out += utf8 ? "Content-Type: message/global\r\n" : "Content-Type: message/rfc822\r\n";
        } else {
            out += "Content-Description: Returned message headers\r\n";
            out += utf8 ? "Content-Type: message/global-headers\r\n"
                        : "Content-Type: text/rfc822-headers\r\n";
        }
        out += encoding_header(original);
        out += "\r\n" + original;
    }
    out += "\r\n--" + boundary + "--\r\n";
    return out;
}

}  // namespace tern::message
