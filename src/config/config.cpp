// The configuration schema (each key once: section, name, type, default, doc, where it goes)
// and the TOML loader that checks a file against it with line-numbered errors.
#include "config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <charconv>
#include <functional>
#include <optional>

#include "base/text.h"
#include "net/network_list.h"
#include "net/next_hop.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace tern::config {
namespace {

enum class Kind {
    kString,
    kStringList,
    kBool,
    kCount,
    kSize,
    kDuration,
    kDurationList,
    kEnum,
    kListenList
};

// A value read from TOML, in the field its kind uses.
struct Value {
    std::string text;
    std::vector<std::string> list;
    std::uint64_t number = 0;
    bool flag = false;
    Seconds duration{0};
    std::vector<Seconds> durations;
};

struct Key {
    std::string_view section;
    std::string_view name;
    Kind kind;
    std::string_view default_toml;  // the default as a TOML value
    std::string_view doc;
    std::function<void(Config&, const Value&)> apply;
    std::uint64_t min = 0;
    std::uint64_t max = UINT64_MAX;
    std::vector<std::string_view> choices = {};  // for kEnum
    // Further checks of one string (each list element): "" when fine, else what is wrong.
    std::function<std::string(std::string_view)> check = {};
};

std::string check_network(std::string_view s) {
    return net::NetworkList::check(s);
}

std::string check_next_hop(std::string_view s) {
    if (net::NextHop::parse(s, 25)) return "";
    return "\"" + std::string(s) +
           "\" is not a next hop such as \"[192.0.2.1]:25\", \"[mail.example.net]:587\" or "
           "\"example.net\"";
}

std::string check_tls_policy(std::string_view s) {
    auto eq = s.find('=');
    if (eq == std::string_view::npos || trim_blanks(s.substr(0, eq)).empty())
        return "\"" + std::string(s) + "\" is not \"domain = level\"";
    if (!tls::parse_level(trim_blanks(s.substr(eq + 1))))
        return "\"" + std::string(s) + "\": the level must be none, may, encrypt or verify";
    return "";
}

std::string check_route(std::string_view s) {
    auto eq = s.find('=');
    if (eq == std::string_view::npos)
        return "\"" + std::string(s) + "\" is not a route of the form \"domain = next-hop\"";
    auto domain = trim_blanks(s.substr(0, eq));
    if (domain.empty() || domain.find_first_of(" \t@[]:") != std::string_view::npos)
        return "\"" + std::string(s) + "\" has no valid domain before \"=\"";
    return check_next_hop(trim_blanks(s.substr(eq + 1)));
}

const std::vector<Key>& schema() {
    static const std::vector<Key> keys = {
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
         "Recipients accepted per message; the next RCPT gets 452 4.5.3.",
         [](Config& c, const Value& v) { c.limits.max_recipients = v.number; }, 1, 1000000},
        {"limits", "errors", Kind::kCount, "20",
         "Error replies in one session before it is closed with 421 4.7.0.",
         [](Config& c, const Value& v) { c.limits.max_errors = v.number; }, 1, 1000000},
        {"limits", "auth_line", Kind::kCount, "12288",
         "Longest AUTH command or SASL response line in octets (RFC 4954 section 4).",
         [](Config& c, const Value& v) { c.limits.max_auth_line = v.number; }, 512, 1048576},
        {"limits", "connections", Kind::kCount, "5000",
         "Open SMTP connections on all listeners together; the next is answered 421 4.7.0 and "
         "closed.",
         [](Config& c, const Value& v) { c.max_connections = v.number; }, 1, 1000000},
        {"limits", "connections_per_client", Kind::kCount, "50",
         "Open connections from one client IP address; the next is answered 421 4.7.0 and closed.",
         [](Config& c, const Value& v) { c.max_connections_per_client = v.number; }, 1, 1000000},
        {"limits", "command_timeout", Kind::kDuration, R"("5m")",
         "Time to wait for the next command (RFC 5321 4.5.3.2.7); then 421 4.4.2 and close.",
         [](Config& c, const Value& v) { c.command_timeout = v.duration; }, 1, 86400},
        {"limits", "data_timeout", Kind::kDuration, R"("3m")",
         "Time to wait for the next block of message data; then 421 4.4.2 and close.",
         [](Config& c, const Value& v) { c.data_timeout = v.duration; }, 1, 86400},
        {"limits", "tls_close_timeout", Kind::kDuration, R"("5s")",
         "Time the TLS close_notify at the end of a session may take to send; then the "
         "connection is closed without it.",
         [](Config& c, const Value& v) { c.tls_close_timeout = v.duration; }, 1, 3600},
        // [local]
        {"local", "domains", Kind::kStringList, R"(["localhost"])",
         "Domains whose mail is delivered to local mailboxes.",
         [](Config& c, const Value& v) { c.local_domains = v.list; }},
        {"local", "users", Kind::kStringList, "[]",
         "Names with a local mailbox (besides postmaster, which always exists).",
         [](Config& c, const Value& v) { c.local_users = v.list; }},
        {"local", "aliases", Kind::kString, R"("")",
         "Aliases file, lines of `name: target, target`; empty means none.",
         [](Config& c, const Value& v) { c.aliases_file = v.text; }},
        {"local", "recipient_delimiter", Kind::kString, R"("+")",
         "user+tag@domain is delivered to user; empty turns this off.",
         [](Config& c, const Value& v) { c.recipient_delimiter = v.text; }, 0, 1},
        // [queue]
        {"queue", "retry_schedule", Kind::kDurationList, R"(["1m", "5m", "15m", "30m", "1h"])",
         "Delay before each retry after a temporary failure; the last one repeats until "
         "max_lifetime.",
         [](Config& c, const Value& v) { c.retry_schedule = v.durations; }},
        {"queue", "max_lifetime", Kind::kDuration, R"("5d")",
         "A message not delivered after this long is returned to its sender with a failure notice.",
         [](Config& c, const Value& v) { c.max_lifetime = v.duration; }, 1, 365 * 86400},
        {"queue", "delay_warning", Kind::kDuration, R"("4h")",
         "Send a delay notice once a message has waited this long; \"0\" turns delay notices off.",
         [](Config& c, const Value& v) { c.delay_warning = v.duration; }, 0, 365 * 86400},
        {"queue", "bounce_size_limit", Kind::kSize, "51200",
         "Notices include the original message in full (RET=FULL) up to this size, else its "
         "headers only.",
         [](Config& c, const Value& v) { c.bounce_size_limit = v.number; }, 0, 1ull << 30},
        {"queue", "max_deliveries", Kind::kCount, "500",
         "Deliveries in progress at once, all transports together.",
         [](Config& c, const Value& v) { c.max_deliveries = v.number; }, 1, 100000},
        {"queue", "local_max_deliveries", Kind::kCount, "64",
         "Local Maildir deliveries in progress at once.",
         [](Config& c, const Value& v) { c.local_max_deliveries = v.number; }, 1, 100000},
        // [relay]
        {"relay",
         "trusted_networks",
         Kind::kStringList,
         R"(["127.0.0.0/8", "::1/128"])",
         "Clients (CIDR networks) that may send mail to other domains; anyone else gets 554 5.7.1 "
         "at RCPT. Keep it to your own networks: anything wider is an open relay.",
         [](Config& c, const Value& v) { c.trusted_networks = v.list; },
         0,
         UINT64_MAX,
         {},
         check_network},
        {"relay",
         "routes",
         Kind::kStringList,
         "[]",
         "Per-domain next hops, \"domain = next-hop\": \"[host]:port\" or \"[ip]:port\" uses that "
         "host's addresses, \"host\" or \"host:port\" its MX records.",
         [](Config& c, const Value& v) { c.relay_routes = v.list; },
         0,
         UINT64_MAX,
         {},
         check_route},
        {"relay",
         "smarthost",
         Kind::kString,
         R"("")",
         "Next hop for every other domain without a route (same syntax); empty means MX lookup.",
         [](Config& c, const Value& v) { c.smarthost = v.text; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) { return s.empty() ? std::string() : check_next_hop(s); }},
        {"relay", "port", Kind::kCount, "25", "TCP port of the mail exchangers found by MX lookup.",
         [](Config& c, const Value& v) { c.relay_port = static_cast<unsigned>(v.number); }, 1,
         65535},
        {"relay", "destination_concurrency", Kind::kCount, "20",
         "Deliveries (connections) to one destination at once.",
         [](Config& c, const Value& v) { c.destination_concurrency = v.number; }, 1, 10000},
        {"relay", "messages_per_connection", Kind::kCount, "100",
         "Messages sent over one connection before it is closed.",
         [](Config& c, const Value& v) { c.messages_per_connection = v.number; }, 1, 1000000},
        {"relay", "recipients_per_transaction", Kind::kCount, "100",
         "Recipients in one transaction; more are sent in further transactions.",
         [](Config& c, const Value& v) { c.recipients_per_transaction = v.number; }, 1, 100000},
        {"relay", "idle_timeout", Kind::kDuration, R"("5s")",
         "An open connection with nothing to send is closed (QUIT) after this.",
         [](Config& c, const Value& v) { c.relay_idle_timeout = v.duration; }, 1, 3600},
        {"relay", "max_hops", Kind::kCount, "50",
         "A message with more Received header fields than this is returned with 554 5.4.6 "
         "(mail loop).",
         [](Config& c, const Value& v) { c.max_hops = v.number; }, 1, 1000},
        {"relay", "connect_timeout", Kind::kDuration, R"("30s")",
         "Time to establish a TCP connection before the next address is tried.",
         [](Config& c, const Value& v) { c.connect_timeout = v.duration; }, 1, 3600},
        {"relay", "greeting_timeout", Kind::kDuration, R"("5m")",
         "Time to wait for the 220 greeting (RFC 5321 4.5.3.2.1).",
         [](Config& c, const Value& v) { c.greeting_timeout = v.duration; }, 1, 86400},
        {"relay", "command_timeout", Kind::kDuration, R"("5m")",
         "Time to wait for the reply to EHLO, MAIL, RCPT or RSET (RFC 5321 4.5.3.2.2-3).",
         [](Config& c, const Value& v) { c.relay_command_timeout = v.duration; }, 1, 86400},
        {"relay", "data_init_timeout", Kind::kDuration, R"("2m")",
         "Time to wait for the 354 reply to DATA (RFC 5321 4.5.3.2.4).",
         [](Config& c, const Value& v) { c.data_init_timeout = v.duration; }, 1, 86400},
        {"relay", "data_block_timeout", Kind::kDuration, R"("3m")",
         "Time one write of message data may take (RFC 5321 4.5.3.2.5).",
         [](Config& c, const Value& v) { c.data_block_timeout = v.duration; }, 1, 86400},
        {"relay", "data_end_timeout", Kind::kDuration, R"("10m")",
         "Time to wait for the reply after the end of data (RFC 5321 4.5.3.2.6).",
         [](Config& c, const Value& v) { c.data_end_timeout = v.duration; }, 1, 86400},
        // [dns]
        {"dns",
         "upstream",
         Kind::kStringList,
         "[]",
         "DNS servers to ask, \"ip\" or \"ip@port\"; empty means those of /etc/resolv.conf.",
         [](Config& c, const Value& v) { c.dns_upstream = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) {
             auto at = s.find('@');
             std::string e = check_network(s.substr(0, at));
             if (!e.empty() || s.substr(0, at).find('/') != std::string_view::npos)
                 return "\"" + std::string(s) + "\" is not \"ip\" or \"ip@port\"";
             if (at != std::string_view::npos) {
                 unsigned port = 0;
                 auto digits = s.substr(at + 1);
                 auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
                 if (ec != std::errc() || p != digits.data() + digits.size() || port == 0 ||
                     port > 65535)
                     return "\"" + std::string(s) + "\" has a bad port";
             }
             return std::string();
         }},
        {"dns", "trust_anchor", Kind::kString, R"("")",
         "File with the DNSSEC trust anchor (DS or DNSKEY records) the resolver validates with; "
         "empty means answers are never marked secure.",
         [](Config& c, const Value& v) { c.dns_trust_anchor = v.text; }},
        {"dns", "timeout", Kind::kDuration, R"("10s")",
         "Time a DNS query may take; then the lookup fails temporarily (4.4.3).",
         [](Config& c, const Value& v) { c.dns_timeout = v.duration; }, 1, 300},
        // [tls]: outbound
        {"tls",
         "outbound_level",
         Kind::kEnum,
         R"("may")",
         "TLS for relaying to servers without a policy: none, may (STARTTLS when offered), encrypt "
         "(TLS required) or verify (TLS and a certificate valid for the MX host name).",
         [](Config& c, const Value& v) { c.tls_outbound_level = v.text; },
         0,
         0,
         {"none", "may", "encrypt", "verify"}},
        {"tls",
         "outbound_policies",
         Kind::kStringList,
         "[]",
         "Per-domain outbound TLS levels, \"domain = level\" (none, may, encrypt, verify).",
         [](Config& c, const Value& v) { c.tls_outbound_policies = v.list; },
         0,
         UINT64_MAX,
         {},
         check_tls_policy},
        {"tls", "dane", Kind::kBool, "true",
         "Use DNSSEC-signed TLSA records (RFC 7672): when a server has them, TLS is required and "
         "its certificate must match. Needs dns.trust_anchor to see anything as signed.",
         [](Config& c, const Value& v) { c.tls_dane = v.flag; }},
        {"tls", "mta_sts", Kind::kBool, "true",
         "Honour MTA-STS policies (RFC 8461): in enforce mode only the listed MX hosts, with TLS "
         "and a valid certificate, get the mail.",
         [](Config& c, const Value& v) { c.tls_mta_sts = v.flag; }},
        {"tls", "ca_file", Kind::kString, R"("")",
         "PEM file of CAs trusted, besides the system's store, for outbound verification and "
         "MTA-STS policy hosts; empty means the system's store alone.",
         [](Config& c, const Value& v) { c.tls_ca_file = v.text; }},
        {"tls",
         "certificates",
         Kind::kStringList,
         "[]",
         "Server certificates, each \"cert.pem\" (key in the same file) or \"cert.pem, key.pem\" "
         "(chain first); the first is the default, the others are chosen by SNI. Empty means a "
         "self-signed certificate made in <data_dir>/tls on first start. Reloaded on SIGHUP.",
         [](Config& c, const Value& v) { c.tls_certificates = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) {
             return tls::parse_certificate_entry(s)
                        ? std::string()
                        : "\"" + std::string(s) + "\" is not \"cert.pem\" or \"cert.pem, key.pem\"";
         }},
        {"tls",
         "min_version",
         Kind::kEnum,
         R"("1.2")",
         "Lowest TLS version the server accepts: 1.2 or 1.3.",
         [](Config& c, const Value& v) { c.tls_min_version = v.text; },
         0,
         0,
         {"1.2", "1.3"}},
        // [spool]
        {"spool", "group_commit_max", Kind::kCount, "512",
         "Most messages made durable by one group sync.",
         [](Config& c, const Value& v) { c.group_commit_max = v.number; }, 1, 100000},
        {"spool", "recycle_files", Kind::kCount, "1024",
         "Files of delivered messages (up to 1 MiB each) kept in spool/free for reuse, which is "
         "cheaper than creating new files; 0 turns this off.",
         [](Config& c, const Value& v) { c.recycle_files = v.number; }, 0, 1000000},
        {"spool", "min_free", Kind::kSize, R"("16M")",
         "Free space the spool's filesystem must keep; below it MAIL is answered 452 4.3.1.",
         [](Config& c, const Value& v) { c.spool_min_free = v.number; }, 0, 1ull << 50},
        // [auth]
        {"auth", "database", Kind::kString, R"("")",
         "SQLite file holding the accounts of authenticated submission (`tern user`); empty means "
         "accounts.sqlite in data_dir.",
         [](Config& c, const Value& v) { c.auth_database = v.text; }},
        {"auth", "argon2_memory_kib", Kind::kCount, "19456",
         "Memory in KiB that each argon2id password hash takes; applies to passwords set from "
         "now on.",
         [](Config& c, const Value& v) {
             c.argon2_memory_kib = static_cast<std::uint32_t>(v.number);
         },
         1024, 4194304},
        {"auth", "argon2_iterations", Kind::kCount, "2",
         "Passes of argon2id over its memory; applies to passwords set from now on.",
         [](Config& c, const Value& v) {
             c.argon2_iterations = static_cast<std::uint32_t>(v.number);
         },
         1, 64},
        {"auth", "argon2_parallelism", Kind::kCount, "1",
         "Lanes (threads) of one argon2id hash; applies to passwords set from now on.",
         [](Config& c, const Value& v) {
             c.argon2_parallelism = static_cast<std::uint32_t>(v.number);
         },
         1, 16},
        {"auth", "scram_iterations", Kind::kCount, "4096",
         "PBKDF2 iteration count of the SCRAM-SHA-256 keys made when a password is set (RFC 7677: "
         "at least 4096).",
         [](Config& c, const Value& v) {
             c.scram_iterations = static_cast<std::uint32_t>(v.number);
         },
         4096, 10000000},
        {"auth", "verify_threads", Kind::kCount, "2",
         "Threads that check passwords and read the account database, away from the event loops.",
         [](Config& c, const Value& v) { c.auth_threads = v.number; }, 1, 64},
        {"auth", "verify_queue", Kind::kCount, "256",
         "Password checks waiting for one of those threads; the next AUTH is answered 454 4.7.0.",
         [](Config& c, const Value& v) { c.auth_queue = v.number; }, 1, 100000},
        {"auth", "throttle_base_delay", Kind::kDuration, R"("1s")",
         "After a failed AUTH, the next attempt from that client address, or for that account, "
         "waits this long; each further failure doubles the wait.",
         [](Config& c, const Value& v) { c.throttle_base_delay = v.duration; }, 1, 3600},
        {"auth", "throttle_max_delay", Kind::kDuration, R"("1m")",
         "The doubling of throttle_base_delay stops at this wait.",
         [](Config& c, const Value& v) { c.throttle_max_delay = v.duration; }, 1, 86400},
        {"auth", "throttle_reset_after", Kind::kDuration, R"("15m")",
         "A client address or account without a failed AUTH for this long starts again from "
         "throttle_base_delay.",
         [](Config& c, const Value& v) { c.throttle_reset_after = v.duration; }, 1, 604800},
        {"auth", "throttle_max_entries", Kind::kCount, "65536",
         "Client addresses, and separately accounts, the throttle remembers; beyond it the one "
         "whose last failure is oldest is forgotten.",
         [](Config& c, const Value& v) { c.throttle_max_entries = v.number; }, 16, 10000000},
        {"auth", "plaintext_loopback", Kind::kBool, "false",
         "Offer and accept AUTH without TLS to clients on loopback addresses (local scripts).",
         [](Config& c, const Value& v) { c.auth_plaintext_loopback = v.flag; }},
        {"auth", "sender_map", Kind::kString, R"("")",
         "File of lines \"sender: account, account\" (sender an address or @domain) granting "
         "accounts more envelope senders than their own address; others get 553 5.7.1.",
         [](Config& c, const Value& v) { c.sender_map = v.text; }},
    };
    return keys;
}

std::string_view kind_name(Kind kind) {
    switch (kind) {
        case Kind::kString:
            return "string";
        case Kind::kStringList:
            return "list of strings";
        case Kind::kBool:
            return "boolean";
        case Kind::kCount:
            return "integer";
        case Kind::kSize:
            return "size";
        case Kind::kDuration:
            return "duration";
        case Kind::kDurationList:
            return "list of durations";
        case Kind::kEnum:
            return "string";
        case Kind::kListenList:
            return "list of host:port";
    }
    return "";
}

// "30s", "5m", "1h", "2d", "0", or an integer number of seconds.
std::optional<Seconds> parse_duration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr == s.data()) return std::nullopt;
    std::string_view unit(ptr, s.data() + s.size() - ptr);
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "s") scale = 1;
    if (unit == "m") scale = 60;
    if (unit == "h") scale = 3600;
    if (unit == "d") scale = 86400;
    if (scale == 0 || n > UINT64_MAX / scale / 1000) return std::nullopt;
    return Seconds(static_cast<Seconds::rep>(n * scale));
}

// An integer, or "10K", "50M", "1G" (powers of 1024).
std::optional<std::uint64_t> parse_size(std::string_view s) {
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr == s.data()) return std::nullopt;
    std::string_view unit(ptr, s.data() + s.size() - ptr);
    std::uint64_t scale = 0;
    if (unit.empty()) scale = 1;
    if (unit == "K" || unit == "k") scale = 1024;
    if (unit == "M" || unit == "m") scale = 1024 * 1024;
    if (unit == "G" || unit == "g") scale = 1024ull * 1024 * 1024;
    if (scale == 0 || n > UINT64_MAX / scale) return std::nullopt;
    return n * scale;
}

bool valid_listen(std::string_view s) {
    std::string_view host, port;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find("]:");
        if (close == std::string_view::npos) return false;
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos || s.find(':') != colon) return false;
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    return !host.empty() && ec == std::errc() && ptr == port.data() + port.size() && p > 0 &&
           p < 65536;
}

std::string where(const std::string& name, const toml::source_region& src) {
    return fmt::format("{}:{}:{}", name, src.begin.line, src.begin.column);
}

// Converts a TOML node to the key's kind, or returns the message saying what is wrong.
std::expected<Value, std::string> convert(const Key& key, const toml::node& node) {
    Value v;
    auto want = [&](std::string_view what) {
        return std::unexpected(fmt::format("{}.{}: expected {}", key.section, key.name, what));
    };
    auto as_duration = [&](const toml::node& n) -> std::optional<Seconds> {
        if (auto i = n.value<std::int64_t>(); i && n.is_integer()) {
            if (*i < 0) return std::nullopt;
            return Seconds(*i);
        }
        if (auto s = n.value<std::string>(); s && n.is_string()) return parse_duration(*s);
        return std::nullopt;
    };
    switch (key.kind) {
        case Kind::kString:
        case Kind::kEnum: {
            if (!node.is_string()) return want("a string");
            v.text = *node.value<std::string>();
            if (key.kind == Kind::kEnum) {
                bool ok = false;
                std::string options;
                for (auto c : key.choices) {
                    ok = ok || c == v.text;
                    options += options.empty() ? "" : ", ";
                    options += c;
                }
                if (!ok) return want("one of " + options);
            } else if (key.max != UINT64_MAX && v.text.size() > key.max) {
                return want(fmt::format("at most {} characters", key.max));
            }
            if (key.check) {
                if (auto e = key.check(v.text); !e.empty())
                    return std::unexpected(fmt::format("{}.{}: {}", key.section, key.name, e));
            }
            return v;
        }
        case Kind::kBool:
            if (!node.is_boolean()) return want("true or false");
            v.flag = *node.value<bool>();
            return v;
        case Kind::kCount:
        case Kind::kSize: {
            std::optional<std::uint64_t> n;
            if (node.is_integer()) {
                auto i = *node.value<std::int64_t>();
                if (i >= 0) n = static_cast<std::uint64_t>(i);
            } else if (node.is_string() && key.kind == Kind::kSize) {
                n = parse_size(*node.value<std::string>());
            }
            if (!n)
                return want(key.kind == Kind::kSize ? "a size such as 1048576 or \"50M\""
                                                    : "a non-negative integer");
            if (*n < key.min || *n > key.max)
                return want(fmt::format("a value from {} to {}", key.min, key.max));
            v.number = *n;
            return v;
        }
        case Kind::kDuration: {
            auto d = as_duration(node);
            if (!d) return want("a duration such as 30, \"30s\", \"5m\", \"1h\" or \"2d\"");
            auto secs = static_cast<std::uint64_t>(d->count());
            if (secs < key.min || secs > key.max)
                return want(fmt::format("a duration from {}s to {}s", key.min, key.max));
            v.duration = *d;
            return v;
        }
        case Kind::kStringList:
        case Kind::kListenList:
        case Kind::kDurationList: {
            const auto* arr = node.as_array();
            if (!arr) return want("a list");
            for (const auto& item : *arr) {
                if (key.kind == Kind::kDurationList) {
                    auto d = as_duration(item);
                    if (!d || d->count() == 0)
                        return want("a list of durations such as [\"1m\", \"1h\"]");
                    v.durations.push_back(*d);
                    continue;
                }
                if (!item.is_string()) return want("a list of strings");
                std::string s = *item.value<std::string>();
                if (key.kind == Kind::kListenList && !valid_listen(s))
                    return want(
                        "host:port addresses such as \"127.0.0.1:25\" or \"[::1]:25\", not \"" + s +
                        "\"");
                if (s.empty()) return want("non-empty strings");
                if (key.check) {
                    if (auto e = key.check(s); !e.empty())
                        return std::unexpected(fmt::format("{}.{}: {}", key.section, key.name, e));
                }
                v.list.push_back(std::move(s));
            }
            if (key.kind == Kind::kDurationList && v.durations.empty())
                return want("at least one duration");
            return v;
        }
    }
    return want("a value");
}

std::string system_hostname() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    return buf;
}

// Applies every key in `table` onto `config`; `name` locates errors.
Result<void> apply_table(Config& config, const toml::table& root, const std::string& name) {
    for (const auto& [section_key, section_node] : root) {
        std::string section(section_key.str());
        const auto* table = section_node.as_table();
        bool known_section = false;
        for (const auto& k : schema())
            known_section = known_section || k.section == section;
        if (!known_section)
            return fail(ErrorCode::kInvalid,
                        fmt::format("{}: unknown section [{}]", where(name, section_node.source()),
                                    section));
        if (!table)
            return fail(ErrorCode::kInvalid,
                        fmt::format("{}: [{}] must be a table", where(name, section_node.source()),
                                    section));
        for (const auto& [key_name, node] : *table) {
            const Key* key = nullptr;
            for (const auto& k : schema())
                if (k.section == section && k.name == key_name.str()) key = &k;
            if (!key)
                return fail(ErrorCode::kInvalid,
                            fmt::format("{}: unknown key {}.{}", where(name, node.source()),
                                        section, key_name.str()));
            auto value = convert(*key, node);
            if (!value)
                return fail(ErrorCode::kInvalid,
                            fmt::format("{}: {}", where(name, node.source()), value.error()));
            key->apply(config, *value);
        }
    }
    return {};
}

Result<Config> finish(Config config) {
    if (config.hostname.empty()) config.hostname = system_hostname();
    if (config.smtp_listen.empty())
        return fail(ErrorCode::kInvalid, "smtp.listen: at least one address is needed");
    if (config.auth_database.empty()) config.auth_database = config.data_dir + "/accounts.sqlite";
    if (config.throttle_base_delay > config.throttle_max_delay)
        return fail(ErrorCode::kInvalid,
                    "auth.throttle_base_delay: must not be longer than auth.throttle_max_delay");
    return config;
}

}  // namespace

Config defaults() {
    Config config;
    for (const auto& key : schema()) {
        auto doc = toml::parse(fmt::format("v = {}", key.default_toml));
        auto value = convert(key, *doc.get("v"));
        key.apply(config, *value);  // defaults are checked by a unit test
    }
    return *finish(std::move(config));
}

Result<Config> load_string(std::string_view text, const std::string& name) {
    Config config = defaults();
    config.hostname.clear();       // finish() fills it unless the file names one
    config.auth_database.clear();  // likewise, from the file's data_dir
    toml::table root;
    try {
        root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        return fail(ErrorCode::kInvalid,
                    fmt::format("{}: {}", where(name, e.source()), e.description()));
    }
    if (auto applied = apply_table(config, root, name); !applied)
        return std::unexpected(applied.error());
    return finish(std::move(config));
}

Result<Config> load_file(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return std::unexpected(Error::from_errno(errno, path));
    std::string text;
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        text.append(buf, n);
    bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) return fail(ErrorCode::kIo, path + ": read error");
    return load_string(text, path);
}

std::string reference_markdown() {
    std::string out;
    std::string_view section;
    for (const auto& key : schema()) {
        if (key.section != section) {
            section = key.section;
            out += fmt::format(
                "\n## [{}]\n\n| key | type | default | meaning |\n|---|---|---|---|\n", section);
        }
        std::string range;
        if ((key.kind == Kind::kCount || key.kind == Kind::kSize || key.kind == Kind::kDuration) &&
            (key.min != 0 || key.max != UINT64_MAX))
            range = fmt::format(" Range {}..{}{}.", key.min, key.max,
                                key.kind == Kind::kDuration ? "s" : "");
        out += fmt::format("| `{}` | {} | `{}` | {}{} |\n", key.name, kind_name(key.kind),
                           key.default_toml, key.doc, range);
    }
    return out;
}

}  // namespace tern::config
