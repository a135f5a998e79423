// Component settings from the configuration (component_options.h). Entries are already checked
// by the schema (certificate entries parse), so nothing here can fail but the sender map.
#include "cli/component_options.h"

namespace tern::cli {

delivery::LocalDirectoryOptions local_directory_options(const config::Config& config) {
    delivery::LocalDirectoryOptions o;
    o.domains = config.local_domains;
    o.users = config.local_users;
    o.aliases_file = config.aliases_file;
    o.recipient_delimiter = config.recipient_delimiter;
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
