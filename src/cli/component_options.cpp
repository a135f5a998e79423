// Component settings from the configuration (component_options.h). Entries are already checked
// by the schema (certificate entries parse), so nothing here can fail but the sender map.
#include "cli/component_options.h"

#include <algorithm>

#include "auth/identity.h"
#include "base/text.h"
#include "net/endpoint.h"
#include "net/next_hop.h"

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

Result<delivery::SmtpTransportOptions> relay_transport_options(const config::Config& config) {
    delivery::SmtpTransportOptions o;
    o.helo_name = config.hostname;
    o.peer.port = static_cast<std::uint16_t>(config.relay_port);
    for (const auto& route : config.relay_routes) {
        auto eq = route.find('=');
        auto hop = net::NextHop::parse(trim_blanks(route.substr(eq + 1)), o.peer.port);
        if (eq == std::string::npos || !hop)
            return fail(ErrorCode::kInvalid, "relay.routes: bad route " + route);
        o.routing.routes[ascii_lower(trim_blanks(route.substr(0, eq)))] = *hop;
    }
    if (!config.smarthost.empty()) {
        o.routing.smarthost = net::NextHop::parse(config.smarthost, o.peer.port);
        if (!o.routing.smarthost) return fail(ErrorCode::kInvalid, "relay.smarthost: bad next hop");
    }
    o.peer.connect_timeout = config.connect_timeout;
    o.peer.greeting_timeout = config.greeting_timeout;
    o.peer.command_timeout = config.relay_command_timeout;
    o.peer.data_init_timeout = config.data_init_timeout;
    o.peer.data_block_timeout = config.data_block_timeout;
    o.peer.data_end_timeout = config.data_end_timeout;
    o.peer.max_messages_per_connection = config.messages_per_connection;
    o.peer.max_recipients_per_transaction = config.recipients_per_transaction;
    o.peer.idle_timeout = config.relay_idle_timeout;
    o.peer.max_hops = config.max_hops;
    o.routing.tls_level = tls::parse_level(config.tls_outbound_level).value_or(tls::Level::kMay);
    o.peer.dane = config.tls_dane;
    for (const auto& p : config.tls_outbound_policies) {
        auto eq = p.find('=');
        auto level = tls::parse_level(trim_blanks(p.substr(eq + 1)));
        if (eq == std::string::npos || !level)
            return fail(ErrorCode::kInvalid, "tls.outbound_policies: bad policy " + p);
        o.routing.tls_policies[ascii_lower(trim_blanks(p.substr(0, eq)))] = *level;
    }
    for (const auto& l : config.smtp_listen)
        if (auto ep = net::parse_endpoint(l)) o.routing.own_endpoints.push_back(*ep);
    return o;
}

}  // namespace tern::cli
