// The TOML loader: checks a file against the schema (schema.h) with line-numbered errors, and
// the reference page made from the schema.
#include "config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <charconv>
#include <functional>
#include <optional>

#include "base/text.h"
#include "config/schema.h"
#include "net/network_list.h"
#include "net/next_hop.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace tern::config {
namespace {

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
    if (config.policy_database.empty()) config.policy_database = config.data_dir + "/policy.sqlite";
    if (config.api_keys_file.empty()) config.api_keys_file = config.data_dir + "/api-keys";
    if (config.suppression_database.empty())
        config.suppression_database = config.data_dir + "/suppressions.sqlite";
    if (config.authserv_id.empty()) config.authserv_id = config.hostname;
    if (config.dkim_key_dir.empty()) config.dkim_key_dir = config.data_dir + "/dkim";
    if (config.throttle_base_delay > config.throttle_max_delay)
        return fail(ErrorCode::kInvalid,
                    "auth.throttle_base_delay: must not be longer than auth.throttle_max_delay");
    if (!config.webhook_urls.empty() && config.webhook_secret.size() < 16)
        return fail(ErrorCode::kInvalid,
                    "webhooks.secret: at least 16 characters are needed when webhooks.urls is "
                    "not empty");
    if (!config.webhook_urls.empty() && !config.events_enabled)
        return fail(ErrorCode::kInvalid,
                    "webhooks.urls: webhooks send the event log's events; events.enabled must be "
                    "true");
    if (!config.feedback_bounce_domain.empty() && config.feedback_secrets.empty())
        return fail(ErrorCode::kInvalid,
                    "feedback.secrets: at least one secret is needed when feedback.bounce_domain "
                    "is set");
    if (!config.feedback_bounce_domain.empty()) {
        // Its addresses are all VERP addresses: a local or SRS domain's users would be refused.
        for (const auto& d : config.local_domains)
            if (ascii_lower(d) == config.feedback_bounce_domain)
                return fail(ErrorCode::kInvalid,
                            "feedback.bounce_domain: " + d +
                                " is a local domain; use a domain of its own (bounces." + d + ")");
        if (config.srs_domain == config.feedback_bounce_domain)
            return fail(ErrorCode::kInvalid,
                        "feedback.bounce_domain: the same as srs.domain; give each its own");
    }
    if (!config.feedback_unsubscribe_url.empty() && config.feedback_secrets.empty())
        return fail(ErrorCode::kInvalid,
                    "feedback.secrets: at least one secret is needed when "
                    "feedback.unsubscribe_url is set");
    if (!config.feedback_unsubscribe_url.empty() && !config.suppression_enabled)
        return fail(ErrorCode::kInvalid,
                    "feedback.unsubscribe_url: unsubscribing puts the address on the suppression "
                    "list; suppression.enabled must be true");
    while (config.feedback_unsubscribe_url.ends_with('/'))
        config.feedback_unsubscribe_url.pop_back();
    if (config.srs_enabled && config.srs_secrets.empty())
        return fail(ErrorCode::kInvalid,
                    "srs.secrets: at least one secret is needed when srs.enabled is true");
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
    config.hostname.clear();              // finish() fills it unless the file names one
    config.auth_database.clear();         // likewise, from the file's data_dir
    config.policy_database.clear();       // likewise
    config.api_keys_file.clear();         // likewise
    config.suppression_database.clear();  // likewise
    config.authserv_id.clear();           // from the file's hostname
    config.dkim_key_dir.clear();          // from the file's data_dir
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
