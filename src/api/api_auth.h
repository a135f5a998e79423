// authenticate: the API key of a request ("Authorization: Bearer KEY"), shared by every route of
// the sending API; a request without a known key gets the 401 answer to send.
#pragma once

#include <expected>

#include "auth/api_keys.h"
#include "http/server.h"
#include "log/logger.h"

namespace tern::api {

// The key presented, or the 401 answer (with WWW-Authenticate: Bearer) to send instead.
std::expected<auth::ApiKey, http::Response> authenticate(const http::Request& request,
                                                         const http::Peer& peer,
                                                         auth::ApiKeyStore& keys, log::Logger& log);

}  // namespace tern::api
