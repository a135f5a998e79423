// Configuration schema: the keys of [content] (header and body rules, as Postfix's header_checks
// and body_checks) and [pregreet] (postscreen's pregreet test on the MX listener).
#include "config/schema.h"

namespace tern::config {

std::vector<Key> content_keys() {
    return {
        {"content", "header_checks", Kind::kString, R"("")",
         "A file of header rules in Postfix's header_checks syntax (`/regex/flags ACTION text`; "
         "docs/policy.md): each header field, unfolded, against them, on the listeners of "
         "`listeners`; REJECT, DEFER, WARN, HOLD, DISCARD, IGNORE, PREPEND, REPLACE, DUNNO, or a "
         "reply code. Empty: none.",
         [](Config& c, const Value& v) { c.header_checks = v.text; }},
        {"content", "body_checks", Kind::kString, R"("")",
         "A file of body rules in the same syntax, each body line against them (REJECT, DEFER, "
         "WARN, HOLD, DISCARD, DUNNO, or a reply code). Empty: none.",
         [](Config& c, const Value& v) { c.body_checks = v.text; }},
        listeners_key("content", R"(["mx", "submission"])",
                      "Listeners whose mail the header and body rules judge: \"mx\", "
                      "\"submission\".",
                      &Config::content_listeners),
        {"content", "body_checks_size_limit", Kind::kSize, "51200",
         "Octets of each message body judged by the body rules (Postfix's "
         "body_checks_size_limit); the rest is not looked at.",
         [](Config& c, const Value& v) { c.body_checks_size_limit = v.number; }, 1,
         1024 * 1024 * 1024},
        {"pregreet", "wait", Kind::kDuration, R"("6s")",
         "The MX listener sends the first line of a multi-line greeting (\"220-\"), waits this "
         "long, then the rest; a client that talks before the greeting is complete is a "
         "spam bot (postscreen's pregreet test). \"0s\" turns the test off.",
         [](Config& c, const Value& v) { c.pregreet_wait = v.duration; }, 0, 60},
        {"pregreet",
         "action",
         Kind::kEnum,
         R"("drop")",
         "A client that talked first: drop (521 5.5.1 Protocol error, and the connection is "
         "closed) or log (logged, and the session goes on).",
         [](Config& c, const Value& v) { c.pregreet_action = v.text; },
         0,
         UINT64_MAX,
         {"drop", "log"}},
        {"pregreet",
         "skip_networks",
         Kind::kStringList,
         R"(["127.0.0.0/8", "::1/128"])",
         "Clients (CIDR networks) that are never tested; they get the greeting at once.",
         [](Config& c, const Value& v) { c.pregreet_skip_networks = v.list; },
         0,
         UINT64_MAX,
         {},
         check_network},
        {"pregreet", "pass_ttl", Kind::kDuration, R"("1d")",
         "A client that waited for the greeting is not tested again for this long.",
         [](Config& c, const Value& v) { c.pregreet_pass_ttl = v.duration; }, 0, 30 * 86400},
    };
}

}  // namespace tern::config
