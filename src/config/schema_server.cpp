// Configuration schema: the keys of [server], [log], [smtp], [submission], [submissions] and
// [limits]: the daemon, its listeners and the limits of a session.
#include <charconv>

#include "config/schema.h"

namespace tern::config {

std::vector<Key> server_keys() {
    return {
        // [server]
        {"server", "hostname", Kind::kString, R"("")",
         "Name used in the greeting, EHLO reply and Received headers; empty means the system host "
         "name.",
         [](Config& c, const Value& v) { c.hostname = v.text; }},
        {"server", "data_dir", Kind::kString, R"("./var")",
         "Directory holding the spool, the mailboxes and the control socket.",
         [](Config& c, const Value& v) { c.data_dir = v.text; }},
        {"server", "workers", Kind::kCount, "0",
         "Number of event loops (threads serving connections); 0 means one per CPU core.",
         [](Config& c, const Value& v) { c.workers = static_cast<unsigned>(v.number); }, 0, 256},
        {"server", "shutdown_grace", Kind::kDuration, R"("10s")",
         "After SIGTERM, how long open sessions may go on before they are answered 421 4.3.2.",
         [](Config& c, const Value& v) { c.shutdown_grace = v.duration; }, 0, 3600},
        {"server", "user", Kind::kString, R"("")",
         "Started as root, the account Tern runs as once its ports are bound: the data directory "
         "is "
         "given to it and root is given up for good. Empty means the user it was started as.",
         [](Config& c, const Value& v) { c.user = v.text; }},
        // [log]
        {"log",
         "format",
         Kind::kEnum,
         R"("text")",
         "Log line format: text or json (one JSON object per line).",
         [](Config& c, const Value& v) {
             c.log_format = v.text == "json" ? log::Format::kJson : log::Format::kText;
         },
         0,
         0,
         {"text", "json"}},
        {"log",
         "level",
         Kind::kEnum,
         R"("info")",
         "Lowest level logged: debug, info, warn or error.",
         [](Config& c, const Value& v) {
             c.log_level = v.text == "debug"   ? log::Level::kDebug
                           : v.text == "warn"  ? log::Level::kWarn
                           : v.text == "error" ? log::Level::kError
                                               : log::Level::kInfo;
         },
         0,
         0,
         {"debug", "info", "warn", "error"}},
        {"log", "file", Kind::kString, R"("")",
         "Append log lines to this file; empty means standard error.",
         [](Config& c, const Value& v) { c.log_file = v.text; }},
        // [smtp]
        {"smtp", "listen", Kind::kListenList, R"(["127.0.0.1:2525"])",
         "Addresses of the SMTP (MX) listener, as host:port or [ipv6]:port. Production: "
         "0.0.0.0:25.",
         [](Config& c, const Value& v) { c.smtp_listen = v.list; }},
        {"smtp", "starttls", Kind::kBool, "true", "Offer STARTTLS (RFC 3207) on the MX listener.",
         [](Config& c, const Value& v) { c.smtp_starttls = v.flag; }},
        {"smtp", "auth", Kind::kBool, "false",
         "Offer AUTH on the MX listener as well (after STARTTLS); submission always offers it.",
         [](Config& c, const Value& v) { c.smtp_auth = v.flag; }},
        // [submission], [submissions]
        {"submission", "listen", Kind::kListenList, R"(["127.0.0.1:2587"])",
         "Message submission (RFC 6409): STARTTLS, then AUTH before MAIL. Production: 0.0.0.0:587. "
         "Empty turns it off.",
         [](Config& c, const Value& v) { c.submission_listen = v.list; }},
        {"submissions", "listen", Kind::kListenList, R"(["127.0.0.1:2465"])",
         "Submission over implicit TLS (RFC 8314): TLS from the first byte, then AUTH before MAIL. "
         "Production: 0.0.0.0:465. Empty turns it off.",
         [](Config& c, const Value& v) { c.submissions_listen = v.list; }},
        // [limits]
        {"limits", "command_line", Kind::kCount, "512",
         "Longest command line in octets, CRLF included (RFC 5321 4.5.3.1.4); longer gets 500 "
         "5.5.6.",
         [](Config& c, const Value& v) { c.limits.max_command_line = v.number; }, 512, 1048576},
        {"limits", "text_line", Kind::kCount, "1000",
         "Longest message line in octets, CRLF included (RFC 5321 4.5.3.1.6); longer gets 500 "
         "5.5.6 at end of data.",
         [](Config& c, const Value& v) { c.limits.max_text_line = v.number; }, 80, 1ull << 30},
        {"limits", "message_size", Kind::kSize, "52428800",
         "Largest message in octets, advertised with SIZE; larger gets 552 5.3.4 at MAIL or at end "
         "of data.",
         [](Config& c, const Value& v) { c.limits.max_message_size = v.number; }, 1024, 1ull << 40},
        {"limits", "recipients", Kind::kCount, "1000",
         "Recipients accepted per message, advertised as LIMITS RCPTMAX (RFC 9422); the next RCPT "
         "gets 452 4.5.3.",
         [](Config& c, const Value& v) { c.limits.max_recipients = v.number; }, 1, 1000000},
        {"limits", "recipient_overshoot", Kind::kCount, "1000",
         "RCPT commands past the recipient limit answered 452 4.5.3 in one transaction before "
         "each further one counts toward the error limit (a pipelining client sends them before "
         "it sees the first 452; Postfix's smtpd_recipient_overshoot_limit).",
         [](Config& c, const Value& v) { c.limits.recipient_overshoot = v.number; }, 0, 1000000},
        {"limits", "transactions_per_connection", Kind::kCount, "1000",
         "Mail transactions (MAIL commands, accepted or not) per connection, advertised as LIMITS "
         "MAILMAX (RFC 9422); the next MAIL gets 421 4.7.0 and the connection is closed.",
         [](Config& c, const Value& v) { c.limits.max_transactions = v.number; }, 1, 999999},
        {"limits",
         "bare_lf",
         Kind::kEnum,
         R"("normalize")",
         "A bare LF (no CR before it) in DATA or a command line: normalize takes it as a line end "
         "and stores CRLF, reject refuses the message with 554 5.6.0 (the command with 500 5.5.2). "
         "Either way the data ends only at CRLF.CRLF and a bare CR is refused.",
         [](Config& c, const Value& v) {
             c.limits.bare_lf =
                 v.text == "reject" ? smtp::BareLf::kReject : smtp::BareLf::kNormalize;
         },
         0,
         0,
         {"normalize", "reject"}},
        {"limits",
         "nul_octets",
         Kind::kEnum,
         R"("reject")",
         "A NUL octet in message text (RFC 5322 text excludes it): reject refuses the message with "
         "554 5.6.0, strip removes the NUL octets from the stored message, accept stores them.",
         [](Config& c, const Value& v) {
             c.limits.nul_octets = v.text == "strip"    ? smtp::NulOctets::kStrip
                                   : v.text == "accept" ? smtp::NulOctets::kAccept
                                                        : smtp::NulOctets::kReject;
         },
         0,
         0,
         {"reject", "strip", "accept"}},
        {"limits", "errors", Kind::kCount, "20",
         "Error replies in one session before it is closed with 421 4.7.0.",
         [](Config& c, const Value& v) { c.limits.max_errors = v.number; }, 1, 1000000},
        {"limits", "auth_line", Kind::kCount, "12288",
         "Longest AUTH command or SASL response line in octets (RFC 4954 section 4).",
         [](Config& c, const Value& v) { c.limits.max_auth_line = v.number; }, 512, 1048576},
        {"limits", "header_section", Kind::kSize, R"("1M")",
         "Largest header section (all header fields of a message) the pipeline's stages look at; "
         "a message with a larger one is refused with 552 5.3.4 when any stage checks messages.",
         [](Config& c, const Value& v) { c.header_section = v.number; }, 1024, 1ull << 30},
        {"limits", "connections", Kind::kCount, "5000",
         "Open SMTP connections on all listeners together; the next is answered 421 4.7.0 and "
         "closed.",
         [](Config& c, const Value& v) { c.max_connections = v.number; }, 1, 1000000},
        {"limits", "connections_per_client", Kind::kCount, "50",
         "Open connections from one client IP address; the next is answered 421 4.7.0 and closed.",
         [](Config& c, const Value& v) { c.max_connections_per_client = v.number; }, 1, 1000000},
        {"limits", "command_timeout", Kind::kDuration, R"("5m")",
         "Time for the next command line to arrive whole, counted from the end of the one before "
         "(RFC 5321 4.5.3.2.7), however slowly its octets trickle in; then 421 4.4.2 and close.",
         [](Config& c, const Value& v) { c.command_timeout = v.duration; }, 1, 86400},
        {"limits", "data_timeout", Kind::kDuration, R"("3m")",
         "Time allowed for DATA or a BDAT chunk from its start, extended by each read as "
         "min_data_rate says but never beyond this from the last read; then 421 4.4.2 and close.",
         [](Config& c, const Value& v) { c.data_timeout = v.duration; }, 1, 86400},
        {"limits", "min_data_rate", Kind::kCount, "500",
         "Octets per second a client must keep up in DATA and BDAT: each read of N octets adds "
         "N / min_data_rate seconds to the time left (as Postfix's smtpd_min_data_rate); 0 gives "
         "every read data_timeout afresh.",
         [](Config& c, const Value& v) { c.min_data_rate = v.number; }, 0, 1ull << 30},
        {"limits", "tls_close_timeout", Kind::kDuration, R"("5s")",
         "Time the TLS close_notify at the end of a session may take to send; then the "
         "connection is closed without it.",
         [](Config& c, const Value& v) { c.tls_close_timeout = v.duration; }, 1, 3600},
    };
}

}  // namespace tern::config
