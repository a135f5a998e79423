// Config: every setting of the daemon as typed values, filled from the embedded defaults and
// a TOML file. The keys, their defaults and docs are declared once, in schema.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "log/logger.h"
#include "policy/rate.h"
#include "smtp/server_session.h"

namespace tern::config {

using Seconds = std::chrono::seconds;
using Rate = policy::Rate;

struct Config {
    // [server]
    std::string hostname;        // our name; empty in the file = the system host name
    std::string data_dir;        // spool, mailboxes, control socket live under it
    unsigned workers = 0;        // event loops; 0 = one per CPU core
    Seconds shutdown_grace{10};  // SIGTERM: time open sessions get before 421 4.3.2
    std::string user;  // started as root: the account it runs as after binding; empty = stay

    // [log]
    log::Format log_format = log::Format::kText;
    log::Level log_level = log::Level::kInfo;
    std::string log_file;  // empty = standard error

    // [smtp]: the MX listener
    std::vector<std::string> smtp_listen;  // "host:port" ("[::1]:25" for IPv6)
    bool smtp_starttls = true;             // offer STARTTLS (RFC 3207)
    bool smtp_auth = false;                // offer AUTH (after STARTTLS) on the MX listener too

    // [submission] (RFC 6409: STARTTLS, AUTH required) and [submissions] (RFC 8314: TLS first)
    std::vector<std::string> submission_listen;
    std::vector<std::string> submissions_listen;

    // [http]: the HTTP listener of metrics, the health check and the API (docs/http.md)
    std::vector<std::string> http_listen;
    bool http_tls = false;  // TLS with the server certificates on every HTTP listener
    std::uint64_t http_max_body = 10 * 1024 * 1024;
    std::uint64_t http_max_header = 16 * 1024;
    Seconds http_request_timeout{30};
    Seconds http_idle_timeout{60};
    std::size_t http_max_connections = 256;
    std::vector<std::string> metrics_networks{"127.0.0.0/8", "::1/128"};
    // [events]: the log of every outcome (docs/events.md)
    bool events_enabled = true;
    std::uint64_t events_max_size = 1ull << 30;
    std::uint64_t events_segment_size = 64ull << 20;
    Seconds events_flush_interval{1};
    // [webhooks]: the events POSTed to the operator's endpoints (docs/webhooks.md)
    std::vector<std::string> webhook_urls;
    std::string webhook_secret;
    std::vector<std::string> webhook_types;  // empty: all
    std::size_t webhook_batch_size = 100;
    Seconds webhook_timeout{10};
    Seconds webhook_min_retry{1};
    Seconds webhook_max_retry{600};
    // [bounce]: what failures mean (docs/bounces.md)
    std::string bounce_rules_file;  // the operator's rules; empty: built-in only
    // [suppression]: addresses the sending API refuses (docs/suppression.md)
    bool suppression_enabled = true;
    std::string suppression_database;  // empty in the file: suppressions.sqlite in data_dir
    std::vector<std::string> suppression_on_bounce{"invalid_recipient", "inactive_mailbox",
                                                   "invalid_domain"};
    bool suppression_on_complaint = true;
    // [feedback]: bounces and complaints that come back (docs/feedback.md)
    std::string feedback_bounce_domain;  // empty: no VERP
    std::vector<std::string> feedback_secrets;
    std::string feedback_verp = "api";  // api, all, none
    std::vector<std::string> feedback_addresses;
    std::uint64_t feedback_max_read = 1024 * 1024;
    Seconds feedback_sent_retention{30 * 86400};
    std::string feedback_unsubscribe_url;  // empty: no one-click unsubscribe
    // [api]: the sending API on the HTTP listener (docs/api.md)
    bool api_enabled = true;
    std::string api_keys_file;  // empty in the file: api-keys in data_dir
    std::size_t api_max_recipients = 10000;
    std::size_t api_max_json_depth = 32;
    std::size_t api_max_template_depth = 16;
    Seconds api_idempotency_retention{86400};
    // [dashboard]: the web dashboard on the HTTP listener (docs/dashboard.md)
    std::vector<std::string> dashboard_admins;  // accounts that may log in; empty = off
    std::vector<std::string> dashboard_networks{"127.0.0.0/8", "::1/128"};
    Seconds dashboard_session_lifetime{8 * 3600};
    std::size_t dashboard_max_sessions = 100;

    // [limits]
    smtp::SessionLimits limits;
    std::size_t max_connections = 0;             // all listeners together
    std::size_t max_connections_per_client = 0;  // per client IP address
    Seconds command_timeout{300};                // waiting for a command (RFC 5321 4.5.3.2.7)
    Seconds data_timeout{180};                   // DATA or a BDAT chunk, extended by the rate
    std::uint64_t min_data_rate = 500;           // octets/s that extend data_timeout; 0 = off
    Seconds tls_close_timeout{5};                // sending our close_notify at the end
    std::size_t header_section = 0;  // octets of header section the pipeline stages may see

    // [dnsbl], [ratelimit] and [greylist] (docs/policy.md)
    std::vector<std::string> dnsbl_sites;
    int dnsbl_threshold = 1;
    int dnsbl_allowlist_threshold = 0;
    std::string dnsbl_action = "reject";
    // Listeners ("mx", "submission") whose sessions each kind of check judges.
    std::vector<std::string> dnsbl_listeners{"mx"};
    std::vector<std::string> ratelimit_listeners{"mx", "submission"};
    std::vector<std::string> greylist_listeners{"mx"};
    std::vector<std::string> content_listeners{"mx", "submission"};
    Rate rate_client_connections;
    Rate rate_client_messages;
    Rate rate_client_recipients;
    Rate rate_account_messages;
    Rate rate_account_recipients;
    Rate rate_sender_domain_messages;
    bool greylist = false;
    Seconds greylist_delay{300};
    Seconds greylist_retry_window{2 * 86400};
    Seconds greylist_max_age{35 * 86400};
    std::uint64_t greylist_auto_allowlist = 5;
    std::string greylist_key = "spf";  // "spf" or "network"
    // [score]: what the points the checks add do (docs/policy.md)
    std::uint64_t score_reject = 0;  // 0 = never
    std::uint64_t score_hold = 0;    // 0 = never
    bool score_header = true;
    // [policy_store]: where rate allowances and greylist state live (docs/policy.md)
    std::string policy_store = "local";  // "local" or "redis"
    std::string policy_database;  // greylist state; empty in the file = <data_dir>/policy.sqlite
    Seconds policy_flush_interval{10};             // how often changed greylist entries are written
    std::string redis_address = "127.0.0.1:6379";  // host:port or a Unix socket path
    std::string redis_password;                    // AUTH when not empty
    std::uint64_t redis_database = 0;              // SELECT when not 0
    std::string redis_key_prefix = "tern:";
    std::uint64_t redis_timeout_ms = 500;  // per operation, connecting included
    Seconds redis_reconnect_max{5};        // longest wait between connection attempts

    // [content] and [pregreet] (docs/policy.md)
    std::string header_checks;                     // header rules file; empty = none
    std::string body_checks;                       // body rules file; empty = none
    std::uint64_t body_checks_size_limit = 51200;  // body octets judged
    Seconds pregreet_wait{6};                      // 0 = no pregreet test
    std::string pregreet_action = "drop";          // "drop" or "log"
    std::vector<std::string> pregreet_skip_networks{"127.0.0.0/8", "::1/128"};
    Seconds pregreet_pass_ttl{86400};

    // [local]
    std::vector<std::string> local_domains;
    std::vector<std::string> local_users;
    std::string aliases_file;
    std::string recipient_delimiter;
    std::vector<std::string> lmtp_routes;  // "domain = target" ("*" = every local domain)
    std::size_t lmtp_concurrency = 20;     // deliveries to one LMTP server at once
    std::size_t lmtp_recipients_per_transaction = 100;
    Seconds lmtp_timeout{600};  // connect, and each reply of an LMTP server

    // [queue]
    std::vector<Seconds> retry_schedule;   // delays after each temporary failure; the last repeats
    Seconds max_lifetime{5 * 86400};       // a message older than this is returned to its sender
    Seconds delay_warning{4 * 3600};       // delay notice after this long; 0 = never
    std::size_t bounce_size_limit = 0;     // octets of original returned in full in a notice
    std::size_t max_deliveries = 0;        // deliveries in progress at once
    std::size_t local_max_deliveries = 0;  // local (Maildir) deliveries in progress at once

    // [relay]: mail for other domains
    std::vector<std::string> trusted_networks;  // clients that may relay (CIDR)
    std::vector<std::string> relay_routes;      // "domain = next-hop", next hop as smarthost
    std::string smarthost;                      // "[host]:port" or "host"; empty = MX lookup
    unsigned relay_port = 25;                   // port of exchangers found by MX lookup
    std::size_t destination_concurrency = 20;   // deliveries to one destination at once
    std::size_t messages_per_connection = 100;  // transactions before a connection is closed
    std::size_t recipients_per_transaction = 100;
    Seconds relay_idle_timeout{5};  // an idle open connection is closed after this
    std::size_t max_hops = 50;      // Received fields beyond this: 554 5.4.6
    Seconds connect_timeout{30};
    Seconds greeting_timeout{300};       // RFC 5321 4.5.3.2.1
    Seconds relay_command_timeout{300};  // 4.5.3.2.2-3: EHLO, MAIL, RCPT, RSET
    Seconds data_init_timeout{120};      // 4.5.3.2.4
    Seconds data_block_timeout{180};     // 4.5.3.2.5
    Seconds data_end_timeout{600};       // 4.5.3.2.6

    // [dns]
    std::vector<std::string> dns_upstream;  // "ip" or "ip@port"; empty = /etc/resolv.conf
    std::string dns_trust_anchor;           // file of DS/DNSKEY records; empty = no DNSSEC
    Seconds dns_timeout{10};
    std::uint64_t dns_cache_entries = 10000;  // answers kept in the process; 0 = none
    Seconds dns_cache_max_ttl{3600};

    // [tls]: outbound (the SMTP client); the server side has keys of its own below
    std::string tls_outbound_level;                  // none, may, encrypt or verify
    std::vector<std::string> tls_outbound_policies;  // "domain = level"
    bool tls_dane = true;                            // secure TLSA records decide (RFC 7672)
    bool tls_mta_sts = true;                         // honour MTA-STS policies (RFC 8461)
    std::string tls_ca_file;                         // CAs for verify and MTA-STS; empty = system
    // [tls]: the server side
    std::vector<std::string>
        tls_certificates;         // "cert.pem" or "cert.pem, key.pem"; first = default
    std::string tls_min_version;  // "1.2" or "1.3"
    // [acme]: certificates from an ACME CA (RFC 8555) for the listeners (docs/tls.md)
    bool acme = false;
    std::string acme_directory{"https://acme-v02.api.letsencrypt.org/directory"};
    std::string acme_email;               // the account's contact; "" for none
    std::vector<std::string> acme_names;  // empty = [server] hostname
    std::string acme_ca_file;             // CAs trusted for the ACME server besides the system's
    Seconds acme_renew_before{30 * 86400};
    Seconds acme_check_interval{12 * 3600};
    Seconds acme_retry_interval{3600};
    Seconds acme_timeout{300};  // one whole order

    // [spool]
    std::size_t group_commit_max = 0;  // messages made durable together at most
    std::size_t recycle_files = 0;     // finished message files kept for reuse
    std::uint64_t spool_min_free = 0;  // octets that must stay free; below it MAIL gets 452 4.3.1
    Seconds spool_sync_retry{10};      // a state write or sync that failed is tried again after

    // [srs]: Sender Rewriting Scheme for forwarded mail (docs/srs.md)
    bool srs_enabled = false;
    std::vector<std::string> srs_secrets;  // the first signs, all verify; needed when enabled
    std::string srs_domain;                // empty = the local domain the mail was forwarded for
    std::size_t srs_hash_length = 4;       // base64 characters of HMAC-SHA1 in an address
    std::size_t srs_max_age_days = 21;     // an SRS address older than this is refused
    std::string srs_separator = "=";       // after SRS0/SRS1: "=", "+" or "-"
    bool srs_bounces_only = false;         // SRS addresses take mail from <> only

    // [auth]: accounts of authenticated submission
    std::string auth_database;  // SQLite file; empty in the file = <data_dir>/accounts.sqlite
    std::uint32_t argon2_memory_kib = 0;          // cost of new argon2id hashes: KiB of memory,
    std::uint32_t argon2_iterations = 0;          // passes,
    std::uint32_t argon2_parallelism = 0;         // lanes
    std::uint32_t scram_iterations = 0;           // PBKDF2 rounds of new SCRAM-SHA-256 keys
    std::size_t auth_threads = 0;                 // threads checking passwords off the event loops
    std::size_t auth_queue = 0;                   // checks waiting for a thread; more get 454 4.7.0
    std::uint32_t throttle_free_per_login = 0;    // failed AUTHs of one (address, account) free
    std::uint32_t throttle_free_per_address = 0;  // failed AUTHs from one address free
    std::uint32_t throttle_free_per_account = 0;  // failed AUTHs of one account free
    Seconds throttle_base_delay{1};        // wait after the free failures; doubles per failure
    Seconds throttle_max_delay{60};        // the doubling stops here
    Seconds throttle_reset_after{900};     // failures are forgotten after this long without one
    std::size_t throttle_max_entries = 0;  // addresses, accounts, pairs remembered (each)
    bool auth_plaintext_loopback = false;  // AUTH without TLS from loopback clients
    std::string sender_map;                // file granting accounts more envelope senders

    // [mailauth]: judging what arrives (docs/mail-authentication.md)
    std::string authserv_id;             // in Authentication-Results; empty = the hostname
    std::vector<std::string> verify_on;  // listener kinds that verify: "mx", "submission"
    bool verify_spf = true;
    bool verify_dkim = true;
    bool verify_arc = true;
    bool verify_dmarc = true;
    Seconds mailauth_timeout{20};          // DNS time one message's checks may take
    std::size_t dkim_max_signatures = 10;  // DKIM-Signature fields checked per message
    std::string dmarc_on_reject;           // what p=reject failures get: reject, hold, tag, accept
    std::string dmarc_on_quarantine;       // p=quarantine failures: hold, tag, accept
    std::string dmarc_on_temperror;        // accept (fail open) or defer
    bool arc_seal = true;                  // seal forwarded mail from other hosts (RFC 8617)
    std::vector<std::string> trusted_arc_sealers;  // forwarders whose ARC dmarc=pass is believed

    // [dkim]: signing what leaves
    bool dkim_sign = true;                  // sign mail of trusted clients and local notices
    std::vector<std::string> dkim_domains;  // signing domains; empty = the local domains
    std::vector<std::string> dkim_keys;     // "domain selector key-file", several per domain
    bool dkim_generate_keys = true;         // domains without a key get RSA and Ed25519 keys
    std::string dkim_key_dir;               // generated keys; empty = <data_dir>/dkim

    // [milter]: external content filters (docs/filters.md)
    std::vector<std::string>
        milters_mx;  // "inet:127.0.0.1:11332 [default_action=accept]", in order
    std::vector<std::string> milters_submission;  // the same for submission and submissions
    Seconds milter_connect_timeout{30};           // to connect and negotiate
    Seconds milter_command_timeout{30};           // for each command's answer
    Seconds milter_end_timeout{300};              // for the end-of-message answers
    std::string milter_default_action;            // when a milter fails: "tempfail" or "accept"
    std::size_t milter_max_frame = 1 << 20;       // octets of one frame from a milter
    std::size_t milter_max_body = 10 << 20;       // octets of body kept for the milters
};

// The defaults, as `tern serve` runs without a config file.
Config defaults();

// Reads and validates `path` on top of the defaults. Errors read "<path>:<line>:<column>: <what>".
Result<Config> load_file(const std::string& path);

// Parses TOML text (for tests and check-config); `name` is used in error messages.
Result<Config> load_string(std::string_view text, const std::string& name);

// The keys ("section.key") whose values differ between two configuration texts, a key present
// in only one of them included; sorted. Fails when either is not TOML.
Result<std::vector<std::string>> changed_settings(std::string_view before, std::string_view after);

// Markdown reference of every key: section, name, type, default and doc line.
std::string reference_markdown();

}  // namespace tern::config
