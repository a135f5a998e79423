// The configuration schema: each key once, with its section, name, type, default, doc line and
// where its value goes. config.cpp loads TOML against it; the reference docs are made from it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "net/stream_address.h"

namespace tern::config {

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

// Every key, in the order of the reference: the sections of each part, concatenated.
const std::vector<Key>& schema();

// The keys of each part of the schema (schema_*.cpp).
std::vector<Key> server_keys();    // [server] [log] [smtp] [submission] [submissions] [limits]
std::vector<Key> delivery_keys();  // [local] [queue] [relay] [dns] [spool] [srs] [events]
                                   // [webhooks] [bounce] [suppression] [feedback]
std::vector<Key> security_keys();  // [tls] [acme] [auth]
std::vector<Key> mailauth_keys();  // [mailauth] [dkim]
std::vector<Key> policy_keys();    // [dnsbl] [ratelimit] [score] [greylist] [policy_store]
std::vector<Key> content_keys();   // [content] [pregreet]
std::vector<Key> filter_keys();    // [milter]
std::vector<Key> http_keys();      // [http] [api] [dashboard]

// Checks of one string value: "" when fine, else what is wrong.
std::string check_network(std::string_view s);
std::string check_domain_or_empty(std::string_view s);  // a DNS name, or nothing
std::string check_next_hop(std::string_view s);
std::string check_listener(std::string_view s);  // "mx" or "submission"

// The `listeners` key of a section of checks: which listeners run them ("mx", "submission": the
// latter stands for submission and submissions).
Key listeners_key(std::string_view section, std::string_view default_toml, std::string_view doc,
                  std::vector<std::string> Config::*field);
std::string check_tls_policy(std::string_view s);
std::string check_route(std::string_view s);
// "domain = target" with an LMTP target ("unix:/path", "[address]:port", "host:port"); "" if fine.
std::string check_lmtp_route(std::string_view s);

// One [milter] list entry: "inet:IP:PORT" or "unix:/path", then options ("default_action=accept").
struct MilterSpec {
    net::StreamAddress address;
    std::optional<bool> accept_on_failure;  // the milter's own default action, when given
};
Result<MilterSpec> parse_milter_spec(std::string_view text);

}  // namespace tern::config
