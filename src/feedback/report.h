// Report: what a message that came back says about mail Tern sent (docs/feedback.md): a
// delivery status notification (RFC 3464, RFC 6533's global form), a bounce in one of the
// common non-standard forms (qmail, old Exim, plain-text notices), a complaint (ARF, RFC 5965),
// or none of these (an auto-reply, a person's answer). Sans-I/O: text in, facts out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::feedback {

enum class ReportKind {
    kNone,       // not a report: an auto-reply, a person, something unreadable
    kDsn,        // a message/delivery-status part
    kBounce,     // a failure notice without one, read from its text
    kComplaint,  // a message/feedback-report part
};

std::string_view kind_name(ReportKind kind);  // "none", "dsn", "bounce", "complaint"

// One recipient of a delivery report.
struct RecipientReport {
    std::string recipient;           // Final-Recipient (or the address a text bounce names)
    std::string original_recipient;  // Original-Recipient, when given
    std::string action;              // failed, delayed, delivered, relayed, expanded (lower case)
    std::string status;              // the enhanced status code: "5.1.1"
    std::string diagnostic;          // Diagnostic-Code's text after "smtp;", unfolded
    std::string remote_mta;          // Remote-MTA's host after "dns;"
};

struct Report {
    ReportKind kind = ReportKind::kNone;
    std::string why;            // for kNone: what the message is ("auto-reply", ...)
    std::string reporting_mta;  // Reporting-MTA's host
    std::vector<RecipientReport> recipients;

    // A complaint's fields (RFC 5965 section 3.1, 3.2).
    std::string feedback_type;  // abuse, fraud, virus, other, not-spam (lower case)
    std::string user_agent;
    std::string original_mail_from;             // without angle brackets
    std::vector<std::string> original_rcpt_to;  // without angle brackets
    std::string source_ip;
    std::string reported_domain;

    // From the returned message or its header fields, when the report carries them.
    std::string original_return_path;  // without angle brackets
    std::string original_message_id;
    std::string original_to;
};

struct ReportLimits {
    std::size_t max_text = 256 * 1024;  // octets of a text part read for a non-standard bounce
    std::size_t max_recipients = 100;   // recipient blocks kept
};

Report read_report(std::string_view message, const ReportLimits& limits = {});

}  // namespace tern::feedback
