// check_referenced_files: each file named by the configuration loaded by the component that
// owns it, with the same error text the daemon prints when it refuses to start.
#include "cli/referenced_files.h"

#include <boost/asio/io_context.hpp>

#include "auth/sender_map.h"
#include "delivery/local_directory.h"
#include "dns/resolver.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace tern::cli {

std::vector<std::string> check_referenced_files(const config::Config& config) {
    std::vector<std::string> problems;
    if (!config.aliases_file.empty()) {
        delivery::LocalDirectoryOptions options;
        options.domains = config.local_domains;
        options.users = config.local_users;
        options.aliases_file = config.aliases_file;
        options.recipient_delimiter = config.recipient_delimiter;
        if (auto d = delivery::LocalDirectory::load(options); !d)
            problems.push_back(d.error().message);
    }
    if (!config.sender_map.empty()) {
        if (auto m = auth::SenderMap::load(config.sender_map); !m)
            problems.push_back("auth.sender_map: " + m.error().message);
    }
    // The self-signed default is made by the daemon; only configured certificates are read.
    if (!config.tls_certificates.empty()) {
        tls::ServerOptions options;
        for (const auto& entry : config.tls_certificates)
            options.certificates.push_back(*tls::parse_certificate_entry(entry));
        options.tls13_only = config.tls_min_version == "1.3";
        if (auto c = tls::ServerContext::create(options); !c) problems.push_back(c.error().message);
    }
    if (!config.tls_ca_file.empty()) {
        if (auto c = tls::ClientContext::create(tls::ClientOptions{config.tls_ca_file, ""}); !c)
            problems.push_back("outbound TLS: " + c.error().message);
    }
    if (!config.dns_trust_anchor.empty()) {
        // The resolver reads its trust anchor as it is made; it sends no query here.
        boost::asio::io_context home;
        if (auto r = dns::Resolver::create(
                home, dns::ResolverOptions{config.dns_upstream, config.dns_trust_anchor,
                                           config.dns_timeout});
            !r)
            problems.push_back(r.error().message);
    }
    return problems;
}

}  // namespace tern::cli
