// Report: the MIME tree is searched for the machine-readable part first (a feedback report, a
// delivery status); only a message without one is read as text, and only when its sender or
// subject says it is a failure notice, so that an auto-reply never counts as a bounce.
#include "feedback/report.h"

#include <algorithm>
#include <array>

#include "base/text.h"
#include "message/mime_reader.h"

namespace tern::feedback {
namespace {

using message::MimeEntity;
using message::MimeField;

char lower_char(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool contains_nocase(std::string_view text, std::string_view needle) {
    return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                       [](char a, char b) { return lower_char(a) == lower_char(b); }) != text.end();
}

std::string strip_brackets(std::string_view s) {
    s = trim_space(s);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>')
        s = trim_space(s.substr(1, s.size() - 2));
    return std::string(s);
}

// "rfc822; user@example.com" -> "user@example.com"; a value without a type as it is.
std::string typed_value(std::string_view value) {
    std::size_t semi = value.find(';');
    if (semi != std::string_view::npos) {
        std::string_view type = trim_space(value.substr(0, semi));
        if (type.size() <= 20 && type.find(' ') == std::string_view::npos)
            value.remove_prefix(semi + 1);
    }
    return strip_brackets(value);
}

// A Reporting-MTA or Remote-MTA value's host: "dns; mx.example.org. (192.0.2.1)" ->
// "mx.example.org".
std::string host_value(std::string_view value) {
    std::string v = typed_value(value);
    v = v.substr(0, v.find_first_of(" \t("));
    while (!v.empty() && v.back() == '.')
        v.pop_back();
    return v;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The first enhanced status code (RFC 3463: class.subject.detail, class 2, 4 or 5) in `text`.
std::string find_enhanced_status(std::string_view text) {
    for (std::size_t i = 0; i + 5 <= text.size(); ++i) {
        char c = text[i];
        if ((c != '2' && c != '4' && c != '5') || text[i + 1] != '.') continue;
        if (i > 0 && (is_digit(text[i - 1]) || text[i - 1] == '.')) continue;
        std::size_t j = i + 2, a = j;
        while (j < text.size() && is_digit(text[j]) && j - a < 3)
            ++j;
        if (j == a || j >= text.size() || text[j] != '.') continue;
        std::size_t b = ++j;
        while (j < text.size() && is_digit(text[j]) && j - b < 3)
            ++j;
        if (j == b || (j < text.size() && (is_digit(text[j]) || text[j] == '.'))) continue;
        return std::string(text.substr(i, j - i));
    }
    return {};
}

// The first SMTP reply code (4xx or 5xx) standing as a word in `text`, as "X.0.0"; empty if none.
std::string find_basic_status(std::string_view text) {
    for (std::size_t i = 0; i + 3 <= text.size(); ++i) {
        if ((text[i] != '4' && text[i] != '5') || !is_digit(text[i + 1]) || !is_digit(text[i + 2]))
            continue;
        if (i > 0 && (is_digit(text[i - 1]) || text[i - 1] == '.' || text[i - 1] == ':' ||
                      text[i - 1] == '-' || text[i - 1] == '/'))
            continue;
        char after = i + 3 < text.size() ? text[i + 3] : ' ';
        if (after != ' ' && after != '-' && after != '\r' && after != '\n') continue;
        if (text[i + 1] > '5') continue;  // 4xx/5xx replies have a second digit 0-5
        return std::string(1, text[i]) + ".0.0";
    }
    return {};
}

bool is_atext(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) != std::string_view::npos ||
           static_cast<unsigned char>(c) >= 0x80;
}

// Every address-like word ("local@domain.tld") in `text`, in order.
std::vector<std::string> find_addresses(std::string_view text, std::size_t max) {
    std::vector<std::string> out;
    for (std::size_t at = text.find('@'); at != std::string_view::npos && out.size() < max;
         at = text.find('@', at + 1)) {
        std::size_t l = at, r = at + 1;
        while (l > 0 && is_atext(text[l - 1]))
            --l;
        while (r < text.size() && is_atext(text[r]))
            ++r;
        std::string_view local = text.substr(l, at - l);
        std::string_view domain = text.substr(at + 1, r - at - 1);
        while (!domain.empty() && (domain.back() == '.' || domain.back() == '-'))
            domain.remove_suffix(1);
        while (!local.empty() && local.front() == '.')
            local.remove_prefix(1);
        if (local.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.')
            continue;
        out.push_back(std::string(local) + "@" + std::string(domain));
    }
    return out;
}

std::string collapse_blanks(std::string_view s, std::size_t max) {
    std::string out;
    bool blank = false;
    for (char c : trim_space(s)) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            blank = true;
            continue;
        }
        if (blank && !out.empty()) out += ' ';
        blank = false;
        out += c;
        if (out.size() >= max) break;
    }
    return out;
}

// The parts of interest, found in one walk over the tree.
struct Parts {
    const MimeEntity* delivery_status = nullptr;
    const MimeEntity* feedback = nullptr;
    const MimeEntity* original = nullptr;  // message/rfc822 or its header fields
    const MimeEntity* text = nullptr;      // the first text/plain that is not an attachment
    const MimeEntity* html = nullptr;      // the first text/html, when no text/plain
};

bool is_attachment(const MimeEntity& e) {
    const auto* d = e.field("Content-Disposition");
    return d && ascii_lower(trim_space(*d)).starts_with("attachment");
}

void find_parts(const MimeEntity& e, Parts& p) {
    const std::string& t = e.type;
    if (t == "message/delivery-status" || t == "message/global-delivery-status" ||
        t == "text/delivery-status") {
        if (!p.delivery_status) p.delivery_status = &e;
    } else if (t == "message/feedback-report") {
        if (!p.feedback) p.feedback = &e;
    } else if (t == "message/rfc822" || t == "message/global" || t == "text/rfc822-headers" ||
               t == "message/rfc822-headers" || t == "message/global-headers") {
        if (!p.original) p.original = &e;
        return;  // the returned message's own parts are not the report's
    } else if (t == "text/plain" && !is_attachment(e)) {
        if (!p.text) p.text = &e;
    } else if (t == "text/html" && !is_attachment(e)) {
        if (!p.html) p.html = &e;
    }
    for (const auto& part : e.parts)
        find_parts(part, p);
}

// Field blocks separated by empty lines (a delivery-status or feedback-report body), in one
// pass: a line that is neither a field nor a continuation is skipped.
std::vector<std::vector<MimeField>> field_blocks(std::string_view text) {
    std::vector<std::vector<MimeField>> blocks(1);
    std::size_t pos = 0;
    while (pos < text.size() && blocks.size() <= 1000) {
        std::size_t nl = text.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto& block = blocks.back();
        if (trim_space(line).empty()) {
            if (!block.empty()) blocks.emplace_back();
        } else if (line.front() == ' ' || line.front() == '\t') {
            if (!block.empty()) {
                auto& value = block.back().value;
                if (!value.empty()) value += ' ';
                value += trim_space(line);
            }
        } else if (auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
            block.push_back({std::string(trim_space(line.substr(0, colon))),
                             std::string(trim_space(line.substr(colon + 1)))});
        }
    }
    if (blocks.back().empty()) blocks.pop_back();
    return blocks;
}

std::string first_token_lower(std::string_view s) {
    s = trim_space(s);
    std::size_t end = 0;
    while (end < s.size() && s[end] != ' ' && s[end] != '\t' && s[end] != '(' && s[end] != ';')
        ++end;
    return ascii_lower(s.substr(0, end));
}

void read_delivery_status(const MimeEntity& e, Report& r, const ReportLimits& limits) {
    std::string text = e.decoded();
    for (const auto& block : field_blocks(text)) {
        if (const auto* mta = message::find_field(block, "Reporting-MTA");
            mta && r.reporting_mta.empty())
            r.reporting_mta = host_value(*mta);
        const auto* final_rcpt = message::find_field(block, "Final-Recipient");
        const auto* original = message::find_field(block, "Original-Recipient");
        const auto* action = message::find_field(block, "Action");
        if (!final_rcpt && !original && !action) continue;
        if (r.recipients.size() >= limits.max_recipients) break;
        RecipientReport rr;
        if (final_rcpt) rr.recipient = typed_value(*final_rcpt);
        if (original) rr.original_recipient = typed_value(*original);
        if (rr.recipient.empty()) rr.recipient = rr.original_recipient;
        if (action) rr.action = first_token_lower(*action);
        if (const auto* diag = message::find_field(block, "Diagnostic-Code"))
            rr.diagnostic = collapse_blanks(typed_value(*diag), 2000);
        if (const auto* status = message::find_field(block, "Status"))
            rr.status = find_enhanced_status(*status);
        if (rr.status.empty()) rr.status = find_enhanced_status(rr.diagnostic);
        if (const auto* remote = message::find_field(block, "Remote-MTA"))
            rr.remote_mta = host_value(*remote);
        r.recipients.push_back(std::move(rr));
    }
}

void read_feedback(const MimeEntity& e, Report& r) {
    std::string text = e.decoded();
    for (const auto& block : field_blocks(text)) {
        for (const auto& f : block) {
            std::string name = ascii_lower(f.name);
            if (name == "feedback-type" && r.feedback_type.empty())
                r.feedback_type = first_token_lower(f.value);
            else if (name == "user-agent" && r.user_agent.empty())
                r.user_agent = std::string(trim_space(f.value));
            else if (name == "original-mail-from" && r.original_mail_from.empty())
                r.original_mail_from = strip_brackets(f.value);
            else if (name == "original-rcpt-to" && r.original_rcpt_to.size() < 100)
                r.original_rcpt_to.push_back(strip_brackets(f.value));
            else if (name == "source-ip" && r.source_ip.empty())
                r.source_ip = std::string(trim_space(f.value));
            else if (name == "reported-domain" && r.reported_domain.empty())
                r.reported_domain = std::string(trim_space(f.value));
            else if (name == "reporting-mta" && r.reporting_mta.empty())
                r.reporting_mta = host_value(f.value);
        }
    }
}

void read_original(const MimeEntity& e, Report& r) {
    std::vector<MimeField> decoded_fields;
    const std::vector<MimeField>* fields = nullptr;
    if (!e.parts.empty()) {
        fields = &e.parts.front().fields;
    } else {
        decoded_fields = message::read_fields(e.decoded());
        fields = &decoded_fields;
    }
    if (const auto* v = message::find_field(*fields, "Return-Path"))
        r.original_return_path = strip_brackets(*v);
    if (const auto* v = message::find_field(*fields, "Message-ID"))
        r.original_message_id = std::string(trim_space(*v));
    if (const auto* v = message::find_field(*fields, "To"))
        r.original_to = std::string(trim_space(*v));
}

// Text of an HTML part with its tags dropped, for a notice sent as HTML only.
std::string html_text(std::string_view html) {
    std::string out;
    bool in_tag = false;
    for (char c : html) {
        if (c == '<')
            in_tag = true;
        else if (c == '>') {
            in_tag = false;
            out += ' ';
        } else if (!in_tag) {
            out += c;
        }
    }
    return out;
}

// Phrases (in lower case) after which a notice lists the addresses that failed.
constexpr std::array<std::string_view, 10> kRecipientMarkers{
    "address(es) failed:",        "addresses failed:",
    "recipients failed:",         "recipients were affected",
    "following recipient",        "following address",
    "could not be delivered to:", "permanent fatal errors",
    "delivery to the following",  "failed recipient"};

constexpr std::array kBounceSubjects{"undeliver",
                                     "delivery status notification",
                                     "delivery failure",
                                     "failure notice",
                                     "returned mail",
                                     "mail delivery failed",
                                     "delivery has failed",
                                     "could not be delivered",
                                     "non-deliverable",
                                     "nondeliverable",
                                     "delivery problem",
                                     "mail system error",
                                     "unzustellbar",
                                     "non remis",
                                     "delivery notification",
                                     "not delivered",
                                     "delivery failed",
                                     "returned to sender",
                                     "delivery report",
                                     "mail delivery"};
constexpr std::array kBounceSenders{"mailer-daemon", "postmaster", "mail delivery", "mdaemon",
                                    "mailerdaemon"};
constexpr std::array kAutoReplySubjects{
    "out of office", "automatic reply", "auto:",       "autoreply", "auto-reply",
    "auto reply",    "vacation",        "abwesenheit", "away from", "absence"};
constexpr std::array kDelayWords{"delayed",      "will be retried",        "will continue trying",
                                 "still trying", "not yet been delivered", "will retry",
                                 "(delay)",      "will keep trying",       "temporarily deferred"};

template <std::size_t N>
bool has_any(std::string_view text, const std::array<const char*, N>& words) {
    return std::any_of(words.begin(), words.end(),
                       [&](const char* w) { return contains_nocase(text, w); });
}

bool is_auto_reply(const MimeEntity& top, std::string_view subject) {
    if (const auto* a = top.field("Auto-Submitted"); a && first_token_lower(*a) != "no")
        return true;
    if (top.field("X-Autoreply") || top.field("X-Autorespond") ||
        top.field("X-Auto-Response-Suppress"))
        return true;
    if (const auto* p = top.field("Precedence"); p && first_token_lower(*p) == "auto_reply")
        return true;
    return has_any(subject, kAutoReplySubjects);
}

// Where a failure notice names its failed address, and the text after it.
struct Failure {
    std::string address;
    std::string text;
};

// The lines after `at` up to the next empty line.
std::string_view paragraph_after(std::string_view text, std::size_t at) {
    std::size_t start = text.find('\n', at);
    if (start == std::string_view::npos) return {};
    ++start;
    std::size_t end = start;
    while (end < text.size()) {
        std::size_t nl = text.find('\n', end);
        std::string_view line =
            text.substr(end, (nl == std::string_view::npos ? text.size() : nl) - end);
        if (trim_space(line).empty()) break;
        end = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    return text.substr(start, end - start);
}

std::vector<Failure> text_failures(std::string_view text, std::size_t max) {
    std::vector<Failure> out;
    std::size_t pos = 0;
    // qmail: "<user@example.com>:" on a line of its own, its reason in the lines below. Postfix
    // without a report: "<user@example.com>: host ... said: 550 ..." on the same line.
    while (pos < text.size() && out.size() < max) {
        std::size_t nl = text.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        std::string_view line = trim_space(text.substr(pos, end - pos));
        if (line.starts_with('<')) {
            auto close = line.find(">:");
            if (close != std::string_view::npos &&
                line.substr(1, close - 1).find('@') != std::string_view::npos &&
                line.substr(1, close - 1).find(' ') == std::string_view::npos) {
                std::string reason(trim_space(line.substr(close + 2)));
                std::string_view below = paragraph_after(text, pos);
                if (!below.empty()) reason += (reason.empty() ? "" : " ") + std::string(below);
                out.push_back(
                    {std::string(line.substr(1, close - 1)), collapse_blanks(reason, 2000)});
            }
        }
        pos = end + 1;
    }
    if (!out.empty()) return out;
    // Exim without a report ("The following address(es) failed:"), Sendmail's old notices,
    // appliances ("The following recipients were affected:"): the failed address on one of the
    // lines after such a phrase, its reason indented below it.
    std::size_t at = std::string_view::npos;
    for (std::string_view marker : kRecipientMarkers) {
        auto found = std::search(text.begin(), text.end(), marker.begin(), marker.end(),
                                 [](char a, char b) { return lower_char(a) == b; });
        if (found != text.end())
            at = std::min<std::size_t>(at, static_cast<std::size_t>(found - text.begin()));
    }
    if (at == std::string_view::npos) return out;
    std::size_t line = text.find('\n', at);
    for (int n = 0; n < 6 && line != std::string_view::npos && line + 1 < text.size(); ++n) {
        std::size_t next = text.find('\n', line + 1);
        std::string_view current =
            text.substr(line + 1, (next == std::string_view::npos ? text.size() : next) - line - 1);
        auto found = find_addresses(current, 1);
        if (!found.empty()) {
            out.push_back({found.front(), collapse_blanks(paragraph_after(text, line + 1), 2000)});
            break;
        }
        line = next;
    }
    return out;
}

void read_text_bounce(const MimeEntity& top, const Parts& parts, std::string_view subject,
                      Report& r, const ReportLimits& limits) {
    std::string text;
    if (parts.text)
        text = parts.text->decoded();
    else if (parts.html)
        text = html_text(parts.html->decoded());
    else if (top.parts.empty())
        text = top.decoded();
    if (text.size() > limits.max_text) text.resize(limits.max_text);
    // Only the notice, not the returned message quoted below it.
    for (std::string_view cut :
         {"------ This is a copy of the message", "--- Below this line is a copy",
          "------- Original message", "----- Original message", "Original message follows",
          "--- Original message"}) {
        if (auto at = text.find(cut); at != std::string::npos) text.resize(at);
    }
    auto failures = text_failures(text, limits.max_recipients);
    if (failures.empty()) {
        // Any other notice, when both its sender and its subject say it is one: the first
        // address it names that is not a mailer daemon's.
        const auto* from = top.field("From");
        if (!from || !has_any(std::string_view(*from), kBounceSenders) ||
            !has_any(subject, kBounceSubjects))
            return;
        Failure f;
        for (const auto& a : find_addresses(text, 20)) {
            std::string lower = ascii_lower(a);
            if (lower.starts_with("mailer-daemon@") || lower.starts_with("postmaster@")) continue;
            f.address = a;
            break;
        }
        if (f.address.empty()) return;
        failures.push_back(std::move(f));
    }
    bool delayed_words =
        has_any(subject, kDelayWords) || has_any(std::string_view(text), kDelayWords);
    for (auto& f : failures) {
        RecipientReport rr;
        rr.recipient = std::move(f.address);
        rr.diagnostic = f.text;
        rr.status = find_enhanced_status(f.text);
        if (rr.status.empty()) rr.status = find_basic_status(f.text);
        if (rr.status.empty()) rr.status = find_enhanced_status(text);
        if (rr.status.empty()) rr.status = find_basic_status(text);
        if (rr.diagnostic.empty()) rr.diagnostic = collapse_blanks(text, 500);
        bool temporary = rr.status.starts_with('4') || (rr.status.empty() && delayed_words);
        rr.action = temporary ? "delayed" : "failed";
        r.recipients.push_back(std::move(rr));
    }
}

}  // namespace

std::string_view kind_name(ReportKind kind) {
    switch (kind) {
        case ReportKind::kDsn:
            return "dsn";
        case ReportKind::kBounce:
            return "bounce";
        case ReportKind::kComplaint:
            return "complaint";
        case ReportKind::kNone:
            break;
    }
    return "none";
}

Report read_report(std::string_view message, const ReportLimits& limits) {
    Report r;
    MimeEntity top = message::read_mime(message);
    Parts parts;
    find_parts(top, parts);
    if (parts.original) read_original(*parts.original, r);
    if (parts.feedback) {
        r.kind = ReportKind::kComplaint;
        read_feedback(*parts.feedback, r);
        return r;
    }
    if (parts.delivery_status) {
        r.kind = ReportKind::kDsn;
        read_delivery_status(*parts.delivery_status, r, limits);
        return r;
    }
    std::string subject = top.field("Subject") ? *top.field("Subject") : std::string();
    std::string from = top.field("From") ? *top.field("From") : std::string();
    bool notice_subject = has_any(std::string_view(subject), kBounceSubjects);
    bool notice_sender = has_any(std::string_view(from), kBounceSenders);
    // An auto-reply quotes the subject it answers ("Automatic reply: Delivery failed?"): its
    // headers decide, unless the notice's own sender is a mailer daemon's.
    if (is_auto_reply(top, subject) && !notice_sender) {
        r.why = "auto-reply";
        return r;
    }
    if (!notice_subject && !notice_sender) {
        r.why = "not a delivery or complaint report";
        return r;
    }
    read_text_bounce(top, parts, subject, r, limits);
    r.kind = r.recipients.empty() ? ReportKind::kNone : ReportKind::kBounce;
    if (r.recipients.empty()) r.why = "a notice that names no failed address";
    return r;
}

}  // namespace tern::feedback
