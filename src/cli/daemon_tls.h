// The daemon's server certificates (docs/tls.md): the configured ones, the one an ACME CA issued
// ([acme]: first, and renewed by the certificate manager), or else the self-signed default.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "acme/acme_client.h"
#include "acme/certificate_manager.h"
#include "base/error.h"
#include "config/config.h"
#include "dns/mx_resolver.h"
#include "log/logger.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace tern::cli {

struct DaemonTls {
    std::unique_ptr<tls::ServerContext> server;
    // With [acme] enabled (else null): the http-01 answers the HTTP listener serves, and what
    // orders and renews the certificate.
    std::unique_ptr<acme::ChallengeResponder> challenges;
    std::unique_ptr<tls::ClientContext> acme_tls;
    std::unique_ptr<acme::AcmeClient> acme_client;
    std::unique_ptr<acme::CertificateManager> certificates;

    void start() {
        if (certificates) certificates->start();
    }
    void stop() {
        if (certificates) certificates->stop();
    }
};

// Loads the certificates (making the self-signed one when needed) and, with [acme], the account
// key (made on first use under <data_dir>/acme); `home` runs the renewals.
Result<std::unique_ptr<DaemonTls>> make_daemon_tls(const config::Config& config,
                                                   boost::asio::io_context& home,
                                                   dns::MxResolver& mx, log::Logger& log);

}  // namespace tern::cli
