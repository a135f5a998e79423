// check_referenced_files: each file named by the configuration loaded by the component that
// owns it, with the same error text the daemon prints when it refuses to start.
#include "cli/referenced_files.h"

#include <boost/asio/io_context.hpp>

#include "base/run_as.h"
#include "bounce/classifier.h"
#include "cli/component_options.h"
#include "cli/daemon_stages.h"
#include "cli/daemon_webhooks.h"

namespace tern::cli {

std::vector<std::string> check_referenced_files(const config::Config& config) {
    std::vector<std::string> problems;
    if (!config.user.empty()) {
        if (auto u = lookup_user(config.user); !u) problems.push_back(u.error().message);
    }
    if (!config.aliases_file.empty()) {
        if (auto d = delivery::LocalDirectory::load(local_directory_options(config)); !d)
            problems.push_back(d.error().message);
    }
    if (auto l = lmtp_transport_options(config); !l) problems.push_back(l.error().message);
    if (auto d = dashboard_options(config); !d) problems.push_back(d.error().message);
    if (auto a = check_acme_options(config); !a) problems.push_back(a.error().message);
    if (auto m = load_sender_map(config); !m) problems.push_back(m.error().message);
    if (auto c = content_options(config); !c) problems.push_back(c.error().message);
    if (auto w = check_webhooks(config); !w) problems.push_back(w.error().message);
    if (auto b = bounce::BounceClassifier::load(config.bounce_rules_file); !b)
        problems.push_back("bounce.rules_file: " + b.error().message);
    // The self-signed default is made by the daemon; only configured certificates are read.
    if (!config.tls_certificates.empty()) {
        if (auto c = tls::ServerContext::create(server_tls_options(config)); !c)
            problems.push_back(c.error().message);
    }
    if (!config.tls_ca_file.empty()) {
        if (auto c = tls::ClientContext::create(client_tls_options(config)); !c)
            problems.push_back("outbound TLS: " + c.error().message);
    }
    if (!config.dns_trust_anchor.empty()) {
        // The resolver reads its trust anchor as it is made; it sends no query here.
        boost::asio::io_context home;
        if (auto r = dns::Resolver::create(home, resolver_options(config)); !r)
            problems.push_back(r.error().message);
    }
    return problems;
}

}  // namespace tern::cli
