// What the dashboard shows of the domains' TLS and DKIM: the server certificates in use (names,
// expiry, issuer) and, for each DKIM signing key, whether the record published in the DNS at
// SELECTOR._domainkey.DOMAIN is usable and holds this key's public half (judged by the
// verifier's own code, as `tern dkim check` does).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "dns/resolver.h"
#include "mailauth/dkim_signer.h"
#include "tls/server_context.h"

namespace tern::admin {

// {"tls": [{"names", "not_before", "not_after", "issuer", "self_signed", "file"}],
//  "dkim": [{"domain", "selector", "algorithm", "bits", "record", "ok", "error"?}]}
boost::asio::awaitable<nlohmann::json> domain_status(const tls::ServerContext* tls,
                                                     const std::vector<mailauth::SigningKey>& keys,
                                                     dns::Resolver& resolver);

}  // namespace tern::admin
