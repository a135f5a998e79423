// The settings of the components that read files named by the configuration, built from it in
// one place for `tern serve` and `tern check-config`, so both load those files the same way.
#pragma once

#include "admin/dashboard.h"
#include "auth/sender_map.h"
#include "config/config.h"
#include "delivery/lmtp_transport.h"
#include "delivery/local_directory.h"
#include "delivery/smtp_transport.h"
#include "delivery/srs_rewriter.h"
#include "dns/resolver.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace tern::cli {

delivery::LocalDirectoryOptions local_directory_options(const config::Config& config);

// [srs] as the rewriter takes it (docs/srs.md).
delivery::SrsRewriterOptions srs_rewriter_options(const config::Config& config);

// The configured certificates only; serve adds the self-signed default when there are none.
tls::ServerOptions server_tls_options(const config::Config& config);

tls::ClientOptions client_tls_options(const config::Config& config);

dns::ResolverOptions resolver_options(const config::Config& config);

// [local] lmtp as the LMTP transport takes it; a domain that is not a local domain is an
// error starting "local.lmtp: " (its mail would never go there).
Result<delivery::LmtpTransportOptions> lmtp_transport_options(const config::Config& config);

// [relay] and the outbound part of [tls] as the relay transport takes them (its TLS context,
// MTA-STS cache, SRS and metrics are the caller's); a bad route, smarthost or policy is an
// error naming its key.
Result<delivery::SmtpTransportOptions> relay_transport_options(const config::Config& config);

// [dashboard] as the dashboard takes it; an admin that is no account name or a bad network is
// an error starting "dashboard.".
Result<admin::DashboardOptions> dashboard_options(const config::Config& config);

// [acme] when enabled: an HTTP listener for the http-01 challenges, names that can have one
// (no wildcards), a readable ca_file. Errors start "acme.".
Result<void> check_acme_options(const config::Config& config);

// [auth] sender_map loaded (an empty map when none is set); errors start "auth.sender_map: ".
Result<auth::SenderMap> load_sender_map(const config::Config& config);

}  // namespace tern::cli
