// NextHop: parsing of next-hop text from the configuration (routes, smarthost). The text is the
// operator's, checked here once so the transport can rely on its shape.
#include "net/next_hop.h"

#include <charconv>

#include "base/text.h"

namespace tern::net {

std::optional<NextHop> NextHop::parse(std::string_view text, std::uint16_t default_port) {
    NextHop hop;
    hop.port = default_port;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close == 1) return std::nullopt;
        hop.host = std::string(text.substr(1, close - 1));
        hop.mx_lookup = false;
        rest = text.substr(close + 1);
    } else {
        auto colon = text.rfind(':');
        hop.host = std::string(text.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    }
    if (!rest.empty()) {
        if (rest.front() != ':' || rest.size() < 2) return std::nullopt;
        unsigned port = 0;
        auto digits = rest.substr(1);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc() || p != digits.data() + digits.size() || port == 0 || port > 65535)
            return std::nullopt;
        hop.port = static_cast<std::uint16_t>(port);
    }
    if (hop.host.empty() || hop.host.find_first_of(" \t[]") != std::string::npos)
        return std::nullopt;
    if (hop.mx_lookup && hop.host.find(':') != std::string::npos) return std::nullopt;
    hop.host = ascii_lower(hop.host);
    return hop;
}

std::string NextHop::str() const {
    return (mx_lookup ? host : "[" + host + "]") + ":" + std::to_string(port);
}

}  // namespace tern::net
