// Configuration schema: the keys of [local], [queue], [relay], [dns], [spool], [srs] and
// [events]: where mail goes, how the queue retries, how relaying reaches other servers, the
// spool, SRS, and the log of every outcome (docs/events.md).
#include <charconv>

#include "base/text.h"
#include "config/schema.h"

namespace tern::config {

std::vector<Key> delivery_keys() {
    return {
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
        {"local",
         "lmtp",
         Kind::kStringList,
         "[]",
         "Local domains delivered by LMTP (RFC 2033) instead of Maildir, \"domain = server\": "
         "\"unix:/run/dovecot/lmtp\" (a Unix socket), \"[127.0.0.1]:24\" or \"host:port\"; "
         "\"* = server\" for every local domain without its own line.",
         [](Config& c, const Value& v) { c.lmtp_routes = v.list; },
         0,
         UINT64_MAX,
         {},
         check_lmtp_route},
        {"local", "lmtp_concurrency", Kind::kCount, "20",
         "Deliveries (connections) to one LMTP server at once.",
         [](Config& c, const Value& v) { c.lmtp_concurrency = v.number; }, 1, 10000},
        {"local", "lmtp_recipients_per_transaction", Kind::kCount, "100",
         "Recipients in one LMTP transaction; more are sent in further transactions over the "
         "same connection.",
         [](Config& c, const Value& v) { c.lmtp_recipients_per_transaction = v.number; }, 1,
         100000},
        {"local", "lmtp_timeout", Kind::kDuration, R"("10m")",
         "Time to connect to an LMTP server and to wait for each of its replies (the replies "
         "after the data too); then the recipients are tried again later.",
         [](Config& c, const Value& v) { c.lmtp_timeout = v.duration; }, 1, 86400},
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
         "A message with more Received header fields than this (ours included) is refused at "
         "the end of DATA with 554 5.4.6, and one that reaches it on the way out is returned "
         "with 554 5.4.6 (mail loop).",
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
        {"dns", "cache_entries", Kind::kCount, "10000",
         "DNS answers kept in the daemon for their TTL (negative ones for their SOA's), so that "
         "names asked again are answered without a trip to the resolver; 0 turns the cache off.",
         [](Config& c, const Value& v) { c.dns_cache_entries = v.number; }, 0, 10000000},
        {"dns", "cache_max_ttl", Kind::kDuration, R"("1h")",
         "Longest a DNS answer is kept in the daemon's cache, whatever its TTL.",
         [](Config& c, const Value& v) { c.dns_cache_max_ttl = v.duration; }, 1, 86400},
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
        {"spool", "sync_retry", Kind::kDuration, R"("10s")",
         "After a state-log write or sync fails (disk full, I/O error), how long until it is "
         "tried again; until it succeeds the message gets no notice and is not removed.",
         [](Config& c, const Value& v) { c.spool_sync_retry = v.duration; }, 1, 3600},
        // [srs] (docs/srs.md)
        {"srs", "enabled", Kind::kBool, "false",
         "Rewrite the envelope sender of mail forwarded to remote addresses by an alias to an "
         "SRS address (so it passes SPF at the next hop), and relay bounces to valid SRS "
         "addresses back to the original sender. Needs srs.secrets.",
         [](Config& c, const Value& v) { c.srs_enabled = v.flag; }},
        {"srs", "secrets", Kind::kStringList, "[]",
         "Secrets of the SRS signature (HMAC-SHA1): the first signs new addresses, every one is "
         "accepted on the way back (to retire a secret, put a new one first and keep the old one "
         "for srs.max_age_days). Keep them secret: whoever knows one can relay through Tern.",
         [](Config& c, const Value& v) { c.srs_secrets = v.list; }},
        {"srs",
         "domain",
         Kind::kString,
         R"("")",
         "Domain of the SRS addresses made (its MX must be this server, its SPF record must allow "
         "it); empty means the local domain the forwarded mail was sent to.",
         [](Config& c, const Value& v) { c.srs_domain = ascii_lower(v.text); },
         0,
         UINT64_MAX,
         {},
         check_domain_or_empty},
        {"srs", "hash_length", Kind::kCount, "4",
         "Base64 characters of the signature in an SRS address (4 = 24 bits, as other SRS "
         "implementations use); longer signatures are accepted as well.",
         [](Config& c, const Value& v) { c.srs_hash_length = v.number; }, 4, 27},
        {"srs", "max_age_days", Kind::kCount, "21",
         "Days an SRS address stays valid; a bounce to an older one is refused with 550 5.1.1.",
         [](Config& c, const Value& v) { c.srs_max_age_days = v.number; }, 1, 1000},
        {"srs",
         "separator",
         Kind::kEnum,
         R"("=")",
         "Character after SRS0/SRS1 in the addresses made: =, + or - (all three are accepted on "
         "the way back).",
         [](Config& c, const Value& v) { c.srs_separator = v.text; },
         0,
         UINT64_MAX,
         {"=", "+", "-"}},
        {"srs", "bounces_only", Kind::kBool, "false",
         "Accept mail to SRS addresses only with the null sender <> (bounces); other senders get "
         "554 5.7.1. Off by default: auto-replies and challenge mail sometimes come from a "
         "non-null sender.",
         [](Config& c, const Value& v) { c.srs_bounces_only = v.flag; }},
        // [events]
        {"events", "enabled", Kind::kBool, "true",
         "Keep the event log (every acceptance, delivery, deferral, bounce and expiry of a "
         "recipient) in data_dir/events, read by GET /api/v1/events.",
         [](Config& c, const Value& v) { c.events_enabled = v.flag; }},
        {"events", "max_size", Kind::kSize, R"("1G")",
         "Octets the event log may take; past this its oldest segments are removed.",
         [](Config& c, const Value& v) { c.events_max_size = v.number; }, 1ull << 20, 1ull << 44},
        {"events", "segment_size", Kind::kSize, R"("64M")",
         "Octets of one event log file; the next event past this starts a new one.",
         [](Config& c, const Value& v) { c.events_segment_size = v.number; }, 4096, 1ull << 34},
        {"events", "flush_interval", Kind::kDuration, R"("1s")",
         "How long an event waits to be written and synced with the others of its round; "
         "GET /api/v1/events shows it after that.",
         [](Config& c, const Value& v) { c.events_flush_interval = v.duration; }, 1, 60},
        // [webhooks]
        {"webhooks",
         "urls",
         Kind::kStringList,
         "[]",
         "Endpoints (http:// or https://) the events are POSTed to, in signed batches "
         "(docs/webhooks.md); [] sends none.",
         [](Config& c, const Value& v) { c.webhook_urls = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) -> std::string {
             if (!s.starts_with("http://") && !s.starts_with("https://"))
                 return "not an http:// or https:// URL";
             if (s.size() > 2000) return "longer than 2000 characters";
             return "";
         }},
        {"webhooks", "secret", Kind::kString, R"("")",
         "The HMAC-SHA256 key of the Tern-Signature header; at least 16 characters, needed when "
         "urls is not empty.",
         [](Config& c, const Value& v) { c.webhook_secret = v.text; }},
        {"webhooks",
         "types",
         Kind::kStringList,
         "[]",
         "Event types sent (accepted, delivered, deferred, bounced, expired, suppressed, "
         "complained, unsubscribed); [] sends all.",
         [](Config& c, const Value& v) { c.webhook_types = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) -> std::string {
             for (std::string_view t : {"accepted", "delivered", "deferred", "bounced", "expired",
                                        "suppressed", "complained", "unsubscribed"})
                 if (s == t) return "";
             return "not an event type (accepted, delivered, deferred, bounced, expired, "
                    "suppressed, complained, unsubscribed)";
         }},
        {"webhooks", "batch_size", Kind::kCount, "100", "Events one POST carries at most.",
         [](Config& c, const Value& v) { c.webhook_batch_size = v.number; }, 1, 10000},
        {"webhooks", "timeout", Kind::kDuration, R"("10s")",
         "How long one POST may take, connection to answer; longer is a failure, tried again.",
         [](Config& c, const Value& v) { c.webhook_timeout = v.duration; }, 1, 300},
        {"webhooks", "min_retry_delay", Kind::kDuration, R"("1s")",
         "The pause after a failed POST; it doubles with each failure of the same batch.",
         [](Config& c, const Value& v) { c.webhook_min_retry = v.duration; }, 1, 3600},
        {"webhooks", "max_retry_delay", Kind::kDuration, R"("10m")",
         "The longest pause between tries of a batch.",
         [](Config& c, const Value& v) { c.webhook_max_retry = v.duration; }, 1, 86400},
        // [bounce]
        {"bounce", "rules_file", Kind::kString, R"("")",
         "TOML file of the operator's bounce rules ([[rule]] with category, code, status, text), "
         "tried before the built-in ones (docs/bounces.md); empty: the built-in rules only.",
         [](Config& c, const Value& v) { c.bounce_rules_file = v.text; }},
        // [suppression]
        {"suppression", "enabled", Kind::kBool, "true",
         "Keep the suppression list: the sending API refuses its addresses, hard bounces are "
         "added to it (docs/suppression.md).",
         [](Config& c, const Value& v) { c.suppression_enabled = v.flag; }},
        {"suppression", "database", Kind::kString, R"("")",
         "SQLite file of the suppression list (`tern suppress`); empty means suppressions.sqlite "
         "in data_dir.",
         [](Config& c, const Value& v) { c.suppression_database = v.text; }},
        {"suppression",
         "on_bounce",
         Kind::kStringList,
         R"(["invalid_recipient", "inactive_mailbox", "invalid_domain"])",
         "Bounce categories (docs/bounces.md) whose permanent failures put the recipient on the "
         "suppression list; [] adds none.",
         [](Config& c, const Value& v) { c.suppression_on_bounce = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) -> std::string {
             if (s.empty() || s.size() > 64) return "not a bounce category";
             for (char ch : s)
                 if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
                     return "not a bounce category (a-z, 0-9 and _)";
             return "";
         }},
        {"suppression", "on_complaint", Kind::kBool, "true",
         "Put the recipient of a complaint report (ARF) matched to a message on the suppression "
         "list (docs/feedback.md).",
         [](Config& c, const Value& v) { c.suppression_on_complaint = v.flag; }},
        // [feedback]
        {"feedback",
         "bounce_domain",
         Kind::kString,
         R"("")",
         "Domain of the VERP return paths (b-ID-TAG-LOCAL=DOMAIN@bounce_domain) whose bounces Tern "
         "reads and matches to the message and recipient (docs/feedback.md); its MX must be this "
         "server and its SPF record must allow the sending addresses. Empty: off.",
         [](Config& c, const Value& v) { c.feedback_bounce_domain = ascii_lower(v.text); },
         0,
         UINT64_MAX,
         {},
         check_domain_or_empty},
        {"feedback",
         "secrets",
         Kind::kStringList,
         "[]",
         "Secrets of the VERP addresses' tag (HMAC-SHA256, at least 16 characters): the first "
         "signs, every one is accepted (to retire one, put a new one first and keep the old one "
         "until mail sent with it can no longer bounce). Needed with bounce_domain.",
         [](Config& c, const Value& v) { c.feedback_secrets = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) {
             return s.size() >= 16 ? std::string() : std::string("shorter than 16 characters");
         }},
        {"feedback",
         "verp",
         Kind::kEnum,
         R"("api")",
         "Which relayed mail gets a VERP return path: api (messages of the sending API), all "
         "(every message with a sender other than <>), none.",
         [](Config& c, const Value& v) { c.feedback_verp = v.text; },
         0,
         UINT64_MAX,
         {"api", "all", "none"}},
        {"feedback",
         "addresses",
         Kind::kStringList,
         "[]",
         "Addresses where complaint reports (ARF, the feedback loops of mailbox providers) arrive; "
         "Tern reads the mail to them instead of delivering it.",
         [](Config& c, const Value& v) { c.feedback_addresses = v.list; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) -> std::string {
             auto at = s.rfind('@');
             if (at == std::string_view::npos || at == 0 || !is_dns_name(s.substr(at + 1)))
                 return "not an address (local@domain)";
             return "";
         }},
        {"feedback", "max_report_size", Kind::kSize, R"("1M")",
         "Octets of a report read; the rest (most often the returned message) is not looked at.",
         [](Config& c, const Value& v) { c.feedback_max_read = v.number; }, 4096, 1ull << 30},
        {"feedback",
         "unsubscribe_url",
         Kind::kString,
         R"("")",
         "Where recipients reach Tern's HTTP listener (https://host[:port], through a proxy or "
         "[http] tls): with it, a sending API request with \"unsubscribe\": true gets one-click "
         "List-Unsubscribe fields (RFC 8058) pointing at URL/unsubscribe/TOKEN. Empty: off.",
         [](Config& c, const Value& v) { c.feedback_unsubscribe_url = v.text; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) -> std::string {
             if (s.empty()) return "";
             std::string_view rest = s.starts_with("https://")  ? s.substr(8)
                                     : s.starts_with("http://") ? s.substr(7)
                                                                : std::string_view();
             if (rest.empty() || rest.front() == '/') return "not an https://HOST URL";
             for (char c : s)
                 if (c <= 0x20 || c >= 0x7f ||
                     std::string_view("<>\"?#\\{}|^`").find(c) != std::string_view::npos)
                     return "not a plain URL (printable ASCII, no spaces, <>, quotes, query "
                            "or fragment)";
             if (s.size() > 500) return "longer than 500 characters";
             return "";
         }},
        {"feedback", "sent_retention", Kind::kDuration, R"("30d")",
         "How long the sender and API key of a message sent with a VERP return path are kept "
         "(data_dir/sent.sqlite): a report that comes back later is still matched and counted, "
         "but its event names no sender or key.",
         [](Config& c, const Value& v) { c.feedback_sent_retention = v.duration; }, 3600,
         10ull * 365 * 86400},
    };
}

}  // namespace tern::config
