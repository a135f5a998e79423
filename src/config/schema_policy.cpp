// Configuration schema: the keys of [dnsbl] (DNS block and allow lists with weighted scores, as
// postscreen's), [ratelimit] (GCRA rates per client address, account and sender domain),
// [score] (what the points checks add do), [greylist], and [policy_store] (where their state
// lives: local or a shared Redis).
#include "config/schema.h"
#include "policy/dnsbl.h"
#include "policy/rate.h"

namespace tern::config {
namespace {

std::string check_site(std::string_view s) {
    std::string why;
    if (policy::parse_dnsbl_site(s, &why)) return "";
    return "\"" + std::string(s) +
           "\" is not a list site such as \"zen.spamhaus.org*3\" or "
           "\"list.dnswl.org=127.0.[0..255].[1..3]*-2\": " +
           why;
}

std::string check_rate(std::string_view s) {
    std::string why;
    if (policy::parse_rate(s, &why)) return "";
    return why;
}

Key rate_key(std::string_view name, std::string_view doc, Rate Config::*field) {
    return {"ratelimit",
            name,
            Kind::kString,
            R"("0")",
            doc,
            [field](Config& c, const Value& v) {
                c.*field = policy::parse_rate(v.text).value_or(Rate{});
            },
            0,
            UINT64_MAX,
            {},
            check_rate};
}

}  // namespace

std::vector<Key> policy_keys() {
    return {
        {"dnsbl",
         "sites",
         Kind::kStringList,
         "[]",
         "DNS lists asked about each untrusted client at its first RCPT (RFC 5782), in "
         "postscreen's syntax \"domain[=filter][*weight]\": \"zen.spamhaus.org*3\", "
         "\"bl.example.net=127.0.0.[2..11]\", \"list.dnswl.org=127.0.[0..255].[1..3]*-2\" (a "
         "negative weight allow-lists). Without a filter any 127.0.0.0/8 answer counts; answers "
         "in 127.255.255.0/24 (the list refusing the query) never count. Empty: no lists.",
         [](Config& c, const Value& v) { c.dnsbl_sites = v.list; },
         0,
         UINT64_MAX,
         {},
         check_site},
        {"dnsbl", "threshold", Kind::kCount, "1",
         "A client whose weights add up to this or more is listed.",
         [](Config& c, const Value& v) { c.dnsbl_threshold = static_cast<int>(v.number); }, 1,
         100000},
        {"dnsbl", "allowlist_threshold", Kind::kCount, "0",
         "A client whose score is minus this or lower (allow lists have negative weights) is "
         "allow-listed: never refused for the block lists and free of the per-address rate "
         "limits. 0: no allow-listing.",
         [](Config& c, const Value& v) {
             c.dnsbl_allowlist_threshold = -static_cast<int>(v.number);
         },
         0, 100000},
        {"dnsbl",
         "action",
         Kind::kEnum,
         R"("reject")",
         "What a listed client gets at each RCPT: reject (554 5.7.1 \"Service unavailable; Client "
         "host [ip] blocked using site; its TXT\"), defer (450 4.7.1), log (the score is "
         "logged and mail goes on: to try a list first), or score (the list score is added to "
         "the message's score as item \"dnsbl\", for [score] to judge with the other checks).",
         [](Config& c, const Value& v) { c.dnsbl_action = v.text; },
         0,
         0,
         {"reject", "defer", "log", "score"}},
        listeners_key("dnsbl", R"(["mx"])",
                      "Listeners whose clients the lists judge: \"mx\", \"submission\" "
                      "(submission and submissions, whose clients are authenticated and so never "
                      "judged by the lists).",
                      &Config::dnsbl_listeners),
        listeners_key("ratelimit", R"(["mx", "submission"])",
                      "Listeners whose sessions the rate limits count: \"mx\", \"submission\". "
                      "The account limits matter on submission, the client address limits on mx.",
                      &Config::ratelimit_listeners),
        rate_key("client_connections",
                 "Connections per untrusted client address, as \"N/period\" (\"60/1m\"; periods s, "
                 "m, h, d); over it the greeting is 421 4.7.0 and the connection closes. \"0\": no "
                 "limit.",
                 &Config::rate_client_connections),
        rate_key("client_messages",
                 "Messages (MAIL commands) per untrusted client address; over it MAIL gets "
                 "450 4.7.1.",
                 &Config::rate_client_messages),
        rate_key("client_recipients",
                 "Recipients (RCPT commands) per untrusted client address; over it RCPT gets "
                 "450 4.7.1.",
                 &Config::rate_client_recipients),
        rate_key("account_messages",
                 "Messages per authenticated account (\"1000/1h\": a stolen password cannot turn "
                 "Tern into a spam cannon); over it MAIL gets 450 4.7.1.",
                 &Config::rate_account_messages),
        rate_key("account_recipients",
                 "Recipients per authenticated account; over it RCPT gets 450 4.7.1.",
                 &Config::rate_account_recipients),
        rate_key("sender_domain_messages",
                 "Messages per envelope sender domain, from any client (\"<>\" counts as one "
                 "domain); over it MAIL gets 450 4.7.1.",
                 &Config::rate_sender_domain_messages),
        {"score", "reject", Kind::kCount, "0",
         "A message whose score (the points its checks added: [dnsbl] action = \"score\", "
         "SCORE rules of [content]) is at or above this is refused after DATA with 550 5.7.1 "
         "\"Message refused as spam (score N)\". 0: never.",
         [](Config& c, const Value& v) { c.score_reject = v.number; }, 0, 1000000},
        {"score", "hold", Kind::kCount, "0",
         "A message whose score is at or above this (and below reject) is accepted and kept on "
         "hold in the queue for the postmaster (tern queue release). 0: never.",
         [](Config& c, const Value& v) { c.score_hold = v.number; }, 0, 1000000},
        {"score", "header", Kind::kBool, "true",
         "Add \"X-Tern-Score: total (item=points, ...)\" to a message some check scored.",
         [](Config& c, const Value& v) { c.score_header = v.flag; }},
        {"greylist", "enabled", Kind::kBool, "false",
         "Greylisting (RFC 6647) of untrusted clients at RCPT: the first attempt of an unknown "
         "(client /24 or /64, sender, recipient) triplet gets 451 4.7.1; a retry after `delay` "
         "passes. Clients allow-listed by [dnsbl] are never greylisted.",
         [](Config& c, const Value& v) { c.greylist = v.flag; }},
        {"greylist", "delay", Kind::kDuration, R"("5m")",
         "How long a new triplet is deferred; a retry before then is deferred again.",
         [](Config& c, const Value& v) { c.greylist_delay = v.duration; }, 1, 86400},
        {"greylist", "retry_window", Kind::kDuration, R"("2d")",
         "A first retry later than this after the first attempt starts the delay anew.",
         [](Config& c, const Value& v) { c.greylist_retry_window = v.duration; }, 60, 30 * 86400},
        {"greylist", "max_age", Kind::kDuration, R"("35d")",
         "A triplet that passed is known this long after it was last seen.",
         [](Config& c, const Value& v) { c.greylist_max_age = v.duration; }, 3600, 400 * 86400},
        {"greylist", "auto_allowlist", Kind::kCount, "5",
         "After this many triplets of a client network have passed, the network is no longer "
         "greylisted (senders that retry properly are delayed a few times, not forever); 0: "
         "never.",
         [](Config& c, const Value& v) { c.greylist_auto_allowlist = v.number; }, 0, 1000000},
        listeners_key("greylist", R"(["mx"])",
                      "Listeners whose clients are greylisted: \"mx\", \"submission\" "
                      "(authenticated clients are never greylisted).",
                      &Config::greylist_listeners),
        {"greylist",
         "key",
         Kind::kEnum,
         R"("spf")",
         "What a triplet's client is: spf (the sender's domain when its SPF check passes for "
         "the client, so that a big sender's retry from another server of its pool passes; "
         "the client's network otherwise) or network (always the client's /24 or /64).",
         [](Config& c, const Value& v) { c.greylist_key = v.text; },
         0,
         0,
         {"spf", "network"}},
        {"policy_store",
         "backend",
         Kind::kEnum,
         R"("local")",
         "Where rate allowances and greylist state live: local (this process's memory; greylist "
         "state also in `database`) or redis (shared by every node using the same Redis server; "
         "when it does not answer, each check is judged by the local state instead).",
         [](Config& c, const Value& v) { c.policy_store = v.text; },
         0,
         UINT64_MAX,
         {"local", "redis"}},
        {"policy_store", "database", Kind::kString, R"("")",
         "SQLite file of the local greylist state, kept across restarts; empty means "
         "policy.sqlite in data_dir. Rate allowances are kept in memory only.",
         [](Config& c, const Value& v) { c.policy_database = v.text; }},
        {"policy_store", "flush_interval", Kind::kDuration, R"("10s")",
         "How often changed greylist entries are written to `database` (by a thread of their "
         "own, and at shutdown); a crash loses at most this much greylist state.",
         [](Config& c, const Value& v) { c.policy_flush_interval = v.duration; }, 1, 3600},
        {"policy_store", "redis_address", Kind::kString, R"("127.0.0.1:6379")",
         "The Redis server: host:port, [IPv6]:port, or the path of a Unix socket (\"/...\").",
         [](Config& c, const Value& v) { c.redis_address = v.text; }},
        {"policy_store", "redis_password", Kind::kString, R"("")",
         "Sent with AUTH after connecting; empty means no AUTH.",
         [](Config& c, const Value& v) { c.redis_password = v.text; }},
        {"policy_store", "redis_database", Kind::kCount, "0",
         "The Redis database number (SELECT); 0 is Redis' default.",
         [](Config& c, const Value& v) { c.redis_database = v.number; }, 0, 1000},
        {"policy_store", "redis_key_prefix", Kind::kString, R"("tern:")",
         "Put before every key Tern writes, so that one Redis can serve other programs too; "
         "nodes that share state must use the same prefix.",
         [](Config& c, const Value& v) { c.redis_key_prefix = v.text; }},
        {"policy_store", "redis_timeout_ms", Kind::kCount, "500",
         "Longest wait for one Redis operation, connecting included; past it the check is judged "
         "locally and the connection is dropped.",
         [](Config& c, const Value& v) { c.redis_timeout_ms = v.number; }, 10, 60000},
        {"policy_store", "redis_reconnect_max", Kind::kDuration, R"("5s")",
         "Longest wait between attempts to reconnect to Redis (from 100ms, doubling); checks "
         "meanwhile are judged locally at once.",
         [](Config& c, const Value& v) { c.redis_reconnect_max = v.duration; }, 1, 300},
    };
}

}  // namespace tern::config
