// StreamAddress: "inet:HOST:PORT" and "unix:/path" parsed and printed.
#include "net/stream_address.h"

#include <boost/asio/ip/address.hpp>

namespace tern::net {
namespace asio = boost::asio;

Result<StreamAddress> StreamAddress::parse(std::string_view text) {
    StreamAddress a;
    if (text.starts_with("unix:")) {
        a.unix_socket = true;
        a.path = text.substr(5);
        if (a.path.empty() || a.path[0] != '/')
            return fail(ErrorCode::kInvalid, "unix: needs an absolute path");
        return a;
    }
    if (!text.starts_with("inet:"))
        return fail(ErrorCode::kInvalid, "an address starts with inet: or unix:");
    std::string_view rest = text.substr(5);
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return fail(ErrorCode::kInvalid, "inet: needs HOST:PORT");
    std::string_view host = rest.substr(0, colon);
    std::string_view port = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    asio::ip::make_address(std::string(host), ec);
    if (ec)
        return fail(ErrorCode::kInvalid,
                    "inet: needs an IP address, not '" + std::string(host) + "'");
    unsigned value = 0;
    if (port.empty() || port.size() > 5) return fail(ErrorCode::kInvalid, "bad port");
    for (char c : port) {
        if (c < '0' || c > '9') return fail(ErrorCode::kInvalid, "bad port");
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return fail(ErrorCode::kInvalid, "bad port");
    a.host = host;
    a.port = static_cast<std::uint16_t>(value);
    return a;
}

std::string StreamAddress::str() const {
    if (unix_socket) return "unix:" + path;
    if (host.find(':') != std::string::npos) return "inet:[" + host + "]:" + std::to_string(port);
    return "inet:" + host + ":" + std::to_string(port);
}

}  // namespace tern::net
