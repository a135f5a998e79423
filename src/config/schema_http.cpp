// Configuration schema: the keys of [http]: the HTTP listener that serves /metrics and /health
// and the sending API, its TLS, limits and time-outs (docs/http.md, docs/metrics.md); of [api],
// the sending API (docs/api.md); and of [dashboard], the web dashboard (docs/dashboard.md).
#include "config/schema.h"

namespace tern::config {

std::vector<Key> http_keys() {
    return {
        {"http", "listen", Kind::kListenList, R"(["127.0.0.1:8025"])",
         "Addresses of the HTTP listener (metrics, health check), as host:port or [ipv6]:port; "
         "an empty list: no HTTP listener.",
         [](Config& c, const Value& v) { c.http_listen = v.list; }},
        {"http", "tls", Kind::kBool, "false",
         "Speak HTTPS on every HTTP listener, with the server certificates of [tls] (or the "
         "self-signed one).",
         [](Config& c, const Value& v) { c.http_tls = v.flag; }},
        {"http", "max_body", Kind::kSize, R"("10M")",
         "Largest request body, in octets; a larger request is answered 413.",
         [](Config& c, const Value& v) { c.http_max_body = v.number; }, 0, 1ull << 31},
        {"http", "max_header", Kind::kSize, R"("16K")",
         "Largest request line and header section, in octets; a larger one is answered 431.",
         [](Config& c, const Value& v) { c.http_max_header = v.number; }, 1024, 1ull << 20},
        {"http", "request_timeout", Kind::kDuration, R"("30s")",
         "Time a client has to send one whole request (and to read the answer); then the "
         "connection is closed.",
         [](Config& c, const Value& v) { c.http_request_timeout = v.duration; }, 1, 3600},
        {"http", "idle_timeout", Kind::kDuration, R"("60s")",
         "Time a kept-alive connection may wait for its next request.",
         [](Config& c, const Value& v) { c.http_idle_timeout = v.duration; }, 1, 3600},
        {"http", "max_connections", Kind::kCount, "256",
         "Open HTTP connections; the next is answered 503 and closed.",
         [](Config& c, const Value& v) { c.http_max_connections = v.number; }, 1, 1000000},
        {"http",
         "metrics_networks",
         Kind::kStringList,
         R"(["127.0.0.0/8", "::1/128"])",
         "Clients (CIDR networks) that may read /metrics; others get 403. /health answers "
         "everyone.",
         [](Config& c, const Value& v) { c.metrics_networks = v.list; },
         0,
         UINT64_MAX,
         {},
         check_network},
        {"api", "enabled", Kind::kBool, "true",
         "Serve the sending API (POST /api/v1/messages) on the HTTP listener; requests need a "
         "key made with `tern apikey add`.",
         [](Config& c, const Value& v) { c.api_enabled = v.flag; }},
        {"api", "keys_file", Kind::kString, R"("")",
         "File of the API keys (`tern apikey`), read again when it changes; empty means api-keys "
         "in data_dir.",
         [](Config& c, const Value& v) { c.api_keys_file = v.text; }},
        {"api", "max_recipients", Kind::kCount, "10000",
         "Recipients one request may name; a request with more is answered 400.",
         [](Config& c, const Value& v) { c.api_max_recipients = v.number; }, 1, 1000000},
        {"api", "max_json_depth", Kind::kCount, "32",
         "Nesting of JSON arrays and objects a request may have; deeper is answered 400.",
         [](Config& c, const Value& v) { c.api_max_json_depth = v.number; }, 4, 1000},
        {"api", "max_template_depth", Kind::kCount, "16",
         "Nesting of Mustache sections a template may have; deeper is answered 400.",
         [](Config& c, const Value& v) { c.api_max_template_depth = v.number; }, 1, 100},
        {"api", "idempotency_retention", Kind::kDuration, R"("24h")",
         "How long the answer to a request with an Idempotency-Key is kept: the same key and body "
         "sent again within it get that answer, not a second set of messages.",
         [](Config& c, const Value& v) { c.api_idempotency_retention = v.duration; }, 60,
         30 * 86400},
        {"dashboard", "admins", Kind::kStringList, "[]",
         "Accounts of the auth database (tern user add) that may log in to the web dashboard "
         "at /dashboard/; an empty list: no dashboard.",
         [](Config& c, const Value& v) { c.dashboard_admins = v.list; }},
        {"dashboard",
         "networks",
         Kind::kStringList,
         R"(["127.0.0.0/8", "::1/128"])",
         "Clients (CIDR networks) that may use the dashboard; others get 403.",
         [](Config& c, const Value& v) { c.dashboard_networks = v.list; },
         0,
         UINT64_MAX,
         {},
         check_network},
        {"dashboard", "session_lifetime", Kind::kDuration, R"("8h")",
         "How long a dashboard login lasts without use; each request renews it.",
         [](Config& c, const Value& v) { c.dashboard_session_lifetime = v.duration; }, 60,
         30 * 86400},
        {"dashboard", "max_sessions", Kind::kCount, "100",
         "Dashboard logins kept at once; a new one past this ends the least recently used.",
         [](Config& c, const Value& v) { c.dashboard_max_sessions = v.number; }, 1, 100000},
    };
}

}  // namespace tern::config
