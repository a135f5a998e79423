// parse_endpoint: host:port and [ipv6]:port to an Asio endpoint; host names are not resolved.
// Listen addresses must be literal so start-up never waits on DNS.
#include "net/endpoint.h"

#include <charconv>

namespace tern::net {

Result<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& text) {
    std::string host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find("]:");
        if (close == std::string::npos)
            return fail(ErrorCode::kInvalid, "bad listen address " + text);
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos)
            return fail(ErrorCode::kInvalid, "bad listen address " + text);
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    if (ec) return fail(ErrorCode::kInvalid, "listen address must be an IP literal: " + text);
    unsigned short p = 0;
    auto [ptr, err] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (err != std::errc() || ptr != port.data() + port.size())
        return fail(ErrorCode::kInvalid, "bad port in listen address " + text);
    return boost::asio::ip::tcp::endpoint(address, p);
}

}  // namespace tern::net
