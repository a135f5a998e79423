// fetch(): one HTTP/1.1 request and its response, over TLS (PKIX-verified for the URL's host)
// or plain TCP, bounded in time and size; for the ACME client (and any other outbound HTTP).
// The host's addresses come from a resolver the caller gives (the daemon's DNS), each tried in
// turn until one connects.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace tern::tls {
class ClientContext;
}

namespace tern::http {

// An absolute http or https URL: "https://acme.example:14000/dir?x=1" (no user info; a fragment
// is dropped). The host is lower-cased, an IPv6 literal kept without its brackets.
struct Url {
    bool https = true;
    std::string host;
    std::uint16_t port = 443;
    std::string target = "/";  // path and query

    static std::optional<Url> parse(std::string_view text);
    // "host" or "host:port" (brackets around IPv6), as a Host header field writes it.
    std::string authority() const;
    std::string str() const;
};

struct ClientRequest {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string url;
    std::string content_type;  // sent when not empty
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // further fields
};

struct ClientResponse {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
    std::string body;

    // The first field of that name (case-insensitive); empty when absent.
    std::string header(std::string_view name) const;
};

using ResolveHost =
    std::function<boost::asio::awaitable<Result<std::vector<boost::asio::ip::address>>>(
        std::string host)>;

struct ClientOptions {
    tls::ClientContext* tls = nullptr;   // https: the CAs the server's certificate must chain to
    ResolveHost resolve;                 // host names; IP literals need none
    std::chrono::seconds timeout{30};    // the whole exchange
    std::size_t max_body = 1024 * 1024;  // larger responses fail
    std::string user_agent = "Tern";
};

// Sends `request` and reads the whole response (any status: the caller judges it). Fails on a
// malformed URL, when no address connects, on a TLS or certificate failure, a time-out, or a
// malformed or oversized response; the error says which, naming the host.
boost::asio::awaitable<Result<ClientResponse>> fetch(ClientRequest request,
                                                     const ClientOptions& options);

}  // namespace tern::http
