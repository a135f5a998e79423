// Notices: NOTIFY filtering (RFC 3461 section 4.1) and mapping of spool recipients to
// RFC 3464 per-recipient fields. Notices are never sent to the null sender.
#include "queue/notices.h"

#include <chrono>

namespace tern::queue {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// "x.y.z" with x in 2, 4, 5 and y, z of 1-3 digits.
bool looks_like_status(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2, digits = 0;
    while (i < s.size() && is_digit(s[i]))
        ++i, ++digits;
    if (digits == 0 || digits > 3 || i >= s.size() || s[i] != '.') return false;
    ++i;
    digits = 0;
    while (i < s.size() && is_digit(s[i]))
        ++i, ++digits;
    return digits > 0 && digits <= 3 && i == s.size();
}

}  // namespace

std::string status_of_reply(std::string_view reply) {
    // "550 5.1.1 text" or "550-5.1.1 text": the status is the second word.
    if (reply.size() > 4) {
        std::string_view rest = reply.substr(4);
        auto sp = rest.find(' ');
        std::string_view word = rest.substr(0, sp);
        if (looks_like_status(word)) return std::string(word);
    }
    if (!reply.empty() && reply[0] == '2') return "2.0.0";
    if (!reply.empty() && reply[0] == '4') return "4.0.0";
    return "5.0.0";
}

std::string duration_text(std::int64_t seconds) {
    if (seconds <= 0) return "0s";
    std::string out;
    for (auto [unit, size] : {std::pair{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}) {
        if (seconds >= size) {
            out += std::to_string(seconds / size) + unit;
            seconds %= size;
        }
    }
    return out;
}

std::vector<std::size_t> recipients_owing(const spool::Message& m, NoticeKind kind) {
    std::vector<std::size_t> out;
    if (m.sender.empty()) return out;  // never notify the null sender (RFC 5321 section 6.1)
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
        const auto& r = m.recipients[i];
        switch (kind) {
            case NoticeKind::kFailure:
                if (r.status == spool::RecipientStatus::kFailed && !r.reported &&
                    r.notify.wants_failure())
                    out.push_back(i);
                break;
            case NoticeKind::kSuccess:
                if (r.status == spool::RecipientStatus::kDelivered && !r.reported &&
                    r.notify.wants_success())
                    out.push_back(i);
                break;
            case NoticeKind::kDelay:
                if (r.status == spool::RecipientStatus::kDeferred && r.notify.wants_delay())
                    out.push_back(i);
                break;
        }
    }
    return out;
}

message::DsnRequest notice_request(const spool::Message& m,
                                   const std::vector<std::size_t>& recipients, NoticeKind kind,
                                   std::string_view original, const NoticeContext& context,
                                   std::string message_id) {
    using clock = std::chrono::system_clock;
    message::DsnRequest req;
    req.reporting_mta = context.hostname;
    req.from = "MAILER-DAEMON@" + context.hostname;
    req.to = m.sender;
    req.envelope_id = m.envid;
    req.original_queue_id = m.id;
    req.arrival_date = clock::time_point(std::chrono::seconds(m.arrival));
    // RFC 3461 section 4.3: without RET the choice is ours; Postfix-style, full up to the limit.
    req.return_full = m.ret != smtp::DsnRet::kHeaders;
    req.max_returned = context.bounce_size_limit;
    req.smtputf8 = m.smtputf8;
    req.original = original;
    req.message_id = std::move(message_id);
    for (auto i : recipients) {
        const auto& r = m.recipients[i];
        message::DsnRecipient d;
        d.final_recipient = r.address;
        d.original_recipient =
            r.orcpt.empty() ? (r.original.empty() ? "" : "rfc822;" + r.original) : r.orcpt;
        // The verdict (an operator's bounce, giving up) decides the status; the diagnostic is
        // the last attempt's reply, attributed to the host only when the host said it.
        d.status = status_of_reply(r.verdict.empty() ? r.reply : r.verdict);
        d.diagnostic = r.reply.empty() ? r.verdict : r.reply;
        d.verdict = r.reply.empty() ? "" : r.verdict;
        bool host_said = r.from_host && !r.reply.empty();
        d.diagnostic_type = host_said ? "smtp" : "X-Tern";
        // RFC 3464 2.3.5: Remote-MTA names the host; "[address]:port" stays in the diagnostic.
        // An LMTP server ("lmtp:...") is the final delivery agent here, not a remote MTA.
        bool final_agent =
            r.remote_host.empty() || r.remote_host == "local" || r.remote_host.starts_with("lmtp:");
        if (host_said && !final_agent)
            d.remote_mta = r.remote_host.substr(0, r.remote_host.find('['));
        if (r.last_attempt != 0)
            d.last_attempt = clock::time_point(std::chrono::seconds(r.last_attempt));
        switch (kind) {
            case NoticeKind::kFailure:
                d.action = message::DsnAction::kFailed;
                break;
            case NoticeKind::kSuccess:
                // Handed to a server that does not speak DSN: "relayed" (RFC 3461 section 6.2);
                // put in a mailbox here or by the LMTP server: "delivered".
                d.action =
                    final_agent ? message::DsnAction::kDelivered : message::DsnAction::kRelayed;
                break;
            case NoticeKind::kDelay:
                d.action = message::DsnAction::kDelayed;
                d.will_retry_until = clock::time_point(
                    std::chrono::seconds(m.arrival + context.max_lifetime_seconds));
                break;
        }
        req.recipients.push_back(std::move(d));
    }
    return req;
}

}  // namespace tern::queue
