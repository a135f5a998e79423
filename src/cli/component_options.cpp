// Component settings from the configuration (component_options.h). Entries are already checked
// by the schema (certificate entries parse), so nothing here can fail but the sender map.
#include "cli/component_options.h"

#include <algorithm>

#include "auth/identity.h"
#include "base/text.h"

namespace tern::cli {

delivery::LocalDirectoryOptions local_directory_options(const config::Config& config) {
    delivery::LocalDirectoryOptions o;
    o.domains = config.local_domains;
    o.users = config.local_users;
    o.aliases_file = config.aliases_file;
    o.recipient_delimiter = config.recipient_delimiter;
    return o;
}

Result<admin::DashboardOptions> dashboard_options(const config::Config& config) {
    admin::DashboardOptions o;
    for (const auto& admin : config.dashboard_admins) {
        auto name = auth::parse_account_name(admin);
        if (!name)
            return fail(ErrorCode::kInvalid,
                        "dashboard.admins: \"" + admin + "\": " + name.error().message);
        o.admins.push_back(*name);
    }
    auto networks = net::NetworkList::parse(config.dashboard_networks);
    if (!networks)
        return fail(ErrorCode::kInvalid, "dashboard.networks: " + networks.error().message);
    o.networks = std::move(*networks);
    o.session_lifetime = config.dashboard_session_lifetime;
    o.max_sessions = config.dashboard_max_sessions;
    return o;
}

Result<void> check_acme_options(const config::Config& config) {
    if (!config.acme) return {};
    if (config.http_listen.empty())
        return fail(ErrorCode::kInvalid,
                    "acme.enabled: the http-01 challenges need an HTTP listener (http.listen), "
                    "reachable on port 80 of every name");
    if (config.http_tls)
        return fail(ErrorCode::kInvalid,
                    "acme.enabled: http-01 challenges are fetched over plain HTTP, but http.tls "
                    "makes every HTTP listener speak TLS");
    for (const auto& name : config.acme_names) {
        bool ok = !name.empty() && name.size() <= 253 && name.find('*') == std::string::npos &&
                  name.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789.-") == std::string::npos;
        if (!ok)
            return fail(
                ErrorCode::kInvalid,
                "acme.names: \"" + name +
                    "\" is not a host name (wildcards need dns-01, which Tern does not do)");
    }
    if (!config.acme_ca_file.empty()) {
        tls::ClientOptions trust;
        trust.ca_file = config.acme_ca_file;
        if (auto c = tls::ClientContext::create(trust); !c)
            return fail(ErrorCode::kInvalid, "acme.ca_file: " + c.error().message);
    }
    return {};
}

Result<delivery::LmtpTransportOptions> lmtp_transport_options(const config::Config& config) {
    delivery::LmtpTransportOptions o;
    o.lhlo_name = config.hostname;
    o.timeout = config.lmtp_timeout;
    o.max_recipients_per_transaction = config.lmtp_recipients_per_transaction;
    for (const auto& line : config.lmtp_routes) {
        auto eq = line.find('=');
        auto target = eq == std::string::npos
                          ? std::nullopt
                          : net::LmtpTarget::parse(trim_blanks(line.substr(eq + 1)));
        if (!target) return fail(ErrorCode::kInvalid, "local.lmtp: bad entry \"" + line + "\"");
        std::string domain = ascii_lower(trim_blanks(line.substr(0, eq)));
        bool local = domain == "*" ||
                     std::any_of(config.local_domains.begin(), config.local_domains.end(),
                                 [&](const std::string& d) { return ascii_lower(d) == domain; });
        if (!local)
            return fail(ErrorCode::kInvalid,
                        "local.lmtp: " + domain +
                            " is not one of local.domains, so no mail would go to its LMTP server");
        if (!o.domains.emplace(domain, *target).second)
            return fail(ErrorCode::kInvalid,
                        "local.lmtp: " + domain + " is given twice; one server per domain");
    }
    return o;
}

delivery::SrsRewriterOptions srs_rewriter_options(const config::Config& config) {
    delivery::SrsRewriterOptions o;
    o.enabled = config.srs_enabled;
    o.codec.secrets = config.srs_secrets;
    o.codec.hash_length = config.srs_hash_length;
    o.codec.max_age_days = static_cast<unsigned>(config.srs_max_age_days);
    o.codec.separator = config.srs_separator.empty() ? '=' : config.srs_separator.front();
    o.domain = config.srs_domain;
    o.bounces_only = config.srs_bounces_only;
    return o;
}

tls::ServerOptions server_tls_options(const config::Config& config) {
    tls::ServerOptions o;
    for (const auto& entry : config.tls_certificates)
        o.certificates.push_back(*tls::parse_certificate_entry(entry));
    o.tls13_only = config.tls_min_version == "1.3";
    return o;
}

tls::ClientOptions client_tls_options(const config::Config& config) {
    return tls::ClientOptions{config.tls_ca_file, ""};
}

dns::ResolverOptions resolver_options(const config::Config& config) {
    return dns::ResolverOptions{config.dns_upstream, config.dns_trust_anchor, config.dns_timeout,
                                config.dns_cache_entries, config.dns_cache_max_ttl};
}

Result<auth::SenderMap> load_sender_map(const config::Config& config) {
    if (config.sender_map.empty()) return auth::SenderMap();
    auto loaded = auth::SenderMap::load(config.sender_map);
    if (!loaded) return fail(loaded.error().code, "auth.sender_map: " + loaded.error().message);
    return loaded;
}

}  // namespace tern::cli
