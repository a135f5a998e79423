// authenticate: bearer keys checked against the key file; why a key file cannot be read goes to
// the log, never to the client.
#include "api/api_auth.h"

#include <boost/beast/http/field.hpp>

#include "base/text.h"

namespace tern::api {
namespace {

std::string_view bearer(const http::Request& request) {
    auto it = request.find(boost::beast::http::field::authorization);
    if (it == request.end()) return {};
    std::string_view value = it->value();
    constexpr std::string_view kScheme = "Bearer ";
    if (value.size() <= kScheme.size() || !ascii_iequals(value.substr(0, kScheme.size()), kScheme))
        return {};
    value.remove_prefix(kScheme.size());
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    return value;
}

http::Response unauthorized(std::string_view why) {
    auto response = http::json_error(http::Status::unauthorized, why);
    response.set(boost::beast::http::field::www_authenticate, "Bearer realm=\"tern\"");
    return response;
}

}  // namespace

std::expected<auth::ApiKey, http::Response> authenticate(const http::Request& request,
                                                         const http::Peer& peer,
                                                         auth::ApiKeyStore& keys,
                                                         log::Logger& log) {
    std::string_view presented = bearer(request);
    if (presented.empty())
        return std::unexpected(unauthorized("an API key is required: Authorization: Bearer KEY"));
    auto key = keys.find(presented);
    if (key) return *key;
    if (auto why = keys.error(); !why.empty())
        log.error("api_keys", {{"error", why}, {"effect", "every API request is refused"}});
    log.warn("api_refused", {{"client", peer.address.to_string()}, {"reason", "unknown key"}});
    return std::unexpected(unauthorized("unknown API key"));
}

}  // namespace tern::api
