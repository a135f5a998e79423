// Configuration schema: the keys of [tls], [acme] and [auth]: certificates (and their renewal by
// ACME), outbound TLS policy, accounts and the login throttle.
#include <charconv>

#include "config/schema.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace tern::config {

std::vector<Key> security_keys() {
    return {
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
        // [acme]: automatic certificates
        {"acme", "enabled", Kind::kBool, "false",
         "Get the listeners' certificate from an ACME CA (http-01 challenges answered on the "
         "HTTP listener, which must then be reachable on port 80 of every name) and renew it.",
         [](Config& c, const Value& v) { c.acme = v.flag; }},
        {"acme",
         "directory",
         Kind::kString,
         R"("https://acme-v02.api.letsencrypt.org/directory")",
         "The ACME server's directory URL (https).",
         [](Config& c, const Value& v) { c.acme_directory = v.text; },
         0,
         UINT64_MAX,
         {},
         [](std::string_view s) {
             // RFC 8555 6.1: ACME is spoken over HTTPS only.
             return s.starts_with("https://") ? std::string()
                                              : "\"" + std::string(s) + "\" is not an https URL";
         }},
        {"acme", "email", Kind::kString, R"("")",
         "Contact address of the ACME account (expiry warnings of the CA); \"\" for none.",
         [](Config& c, const Value& v) { c.acme_email = v.text; }},
        {"acme", "names", Kind::kStringList, "[]",
         "Host names the certificate is for (the first is its CN); [] = server.hostname.",
         [](Config& c, const Value& v) { c.acme_names = v.list; }},
        {"acme", "ca_file", Kind::kString, R"("")",
         "PEM CA certificates trusted for the ACME server besides the system's (a test CA).",
         [](Config& c, const Value& v) { c.acme_ca_file = v.text; }},
        {"acme", "renew_before", Kind::kDuration, R"("30d")",
         "Order a new certificate this long before the current one expires.",
         [](Config& c, const Value& v) { c.acme_renew_before = v.duration; }, 0, 3650 * 86400},
        {"acme", "check_interval", Kind::kDuration, R"("12h")",
         "How often the certificate's expiry is checked.",
         [](Config& c, const Value& v) { c.acme_check_interval = v.duration; }, 1, 30 * 86400},
        {"acme", "retry_interval", Kind::kDuration, R"("1h")",
         "After a failed order, the next try comes this much later.",
         [](Config& c, const Value& v) { c.acme_retry_interval = v.duration; }, 1, 30 * 86400},
        {"acme", "timeout", Kind::kDuration, R"("5m")",
         "Time one order may take (challenges validated, certificate issued); then it has failed.",
         [](Config& c, const Value& v) { c.acme_timeout = v.duration; }, 10, 3600},
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
        {"auth", "throttle_free_per_login", Kind::kCount, "3",
         "Failed AUTHs of one account from one client address that are answered without delay "
         "(honest typos); a repeat of the last refused password is not counted.",
         [](Config& c, const Value& v) {
             c.throttle_free_per_login = static_cast<std::uint32_t>(v.number);
         },
         0, 1000},
        {"auth", "throttle_free_per_address", Kind::kCount, "10",
         "Failed AUTHs from one client address, all accounts together, before its attempts are "
         "delayed.",
         [](Config& c, const Value& v) {
             c.throttle_free_per_address = static_cast<std::uint32_t>(v.number);
         },
         0, 100000},
        {"auth", "throttle_free_per_account", Kind::kCount, "10",
         "Failed AUTHs of one account, all client addresses together, before its failures are "
         "delayed.",
         [](Config& c, const Value& v) {
             c.throttle_free_per_account = static_cast<std::uint32_t>(v.number);
         },
         0, 100000},
        {"auth", "throttle_base_delay", Kind::kDuration, R"("1s")",
         "Once a client address, an account, or the two together have used their free failures, "
         "the next attempt waits this long; each further failure doubles the wait.",
         [](Config& c, const Value& v) { c.throttle_base_delay = v.duration; }, 1, 3600},
        {"auth", "throttle_max_delay", Kind::kDuration, R"("1m")",
         "The doubling of throttle_base_delay stops at this wait.",
         [](Config& c, const Value& v) { c.throttle_max_delay = v.duration; }, 1, 86400},
        {"auth", "throttle_reset_after", Kind::kDuration, R"("15m")",
         "A client address, account, or the two together without a failed AUTH for this long "
         "start again with their free failures.",
         [](Config& c, const Value& v) { c.throttle_reset_after = v.duration; }, 1, 604800},
        {"auth", "throttle_max_entries", Kind::kCount, "65536",
         "Client addresses, accounts, and (address, account) pairs the throttle remembers, each "
         "table this many; beyond it the one "
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
}

}  // namespace tern::config
