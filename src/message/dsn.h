// Delivery status notifications (RFC 3464 multipart/report with message/delivery-status,
// RFC 3462/6522 report type, RFC 6533 for internationalised messages) built from delivery results.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::message {

enum class DsnAction { kFailed, kDelayed, kDelivered, kRelayed, kExpanded };

struct DsnRecipient {
    std::string final_recipient;     // the address tried, without type: "user@example.com"
    std::string original_recipient;  // ORCPT as "addr-type;address"; empty when not given
    DsnAction action = DsnAction::kFailed;
    std::string status;      // enhanced status "5.1.1"
    std::string remote_mta;  // host name of the MTA whose reply `diagnostic` is; empty if none
    std::string
        diagnostic;  // the SMTP reply text that caused the result, e.g. "550 5.1.1 No such user"
    // "smtp" when `diagnostic` is the remote MTA's reply; for Tern's own account of a failure
    // (a refused connection, a missing extension, a local mailbox error) "X-Tern", as Postfix
    // writes "X-Postfix" (RFC 3464 2.3.6: a diagnostic-type other than smtp).
    std::string diagnostic_type = "smtp";
    // Tern's decision that made the recipient fail apart from `diagnostic` ("554 5.0.0 Message
    // returned to sender by the postmaster", giving up after the queue lifetime); shown first,
    // with `diagnostic` as the last attempt's reply. Empty otherwise.
    std::string verdict;
    std::optional<std::chrono::system_clock::time_point> last_attempt;
    std::optional<std::chrono::system_clock::time_point> will_retry_until;  // for delayed
};

struct DsnRequest {
    std::string reporting_mta;  // our host name
    std::string from;           // From: of the notice, e.g. "MAILER-DAEMON@mx.example.com"
    std::string to;             // the original envelope sender, who receives the notice
    std::string envelope_id;    // ENVID of the original message; empty when not given
    std::string original_queue_id;
    std::chrono::system_clock::time_point arrival_date;
    std::vector<DsnRecipient> recipients;
    bool return_full = false;      // RET=FULL: include the whole message, else its headers only
    std::size_t max_returned = 0;  // octets of original to include in full; beyond it headers only
    bool smtputf8 = false;         // the original used SMTPUTF8: use message/global-* types
    std::string_view original;     // the original message, headers and body, CRLF line ends
    std::string message_id;        // Message-ID for the notice, with angle brackets
};

// The complete notice (headers and body) with CRLF line ends: a human-readable part,
// the message/delivery-status part, and the original message or its headers.
std::string build_dsn(const DsnRequest& request, std::chrono::system_clock::time_point now);

}  // namespace tern::message
