// LmtpTarget: parsing "unix:/path", "/path", "[address]:port", "host:port" and "host".
#include "net/lmtp_target.h"

#include <charconv>

#include "base/text.h"

namespace tern::net {

std::optional<LmtpTarget> LmtpTarget::parse(std::string_view text) {
    LmtpTarget t;
    // "unix:24" is the host named unix (as str() prints it), not a socket.
    bool unix_socket = text.starts_with("unix:") &&
                       text.substr(5).find_first_not_of("0123456789") != std::string_view::npos;
    if (unix_socket) text.remove_prefix(5);
    if (unix_socket || text.starts_with("/")) {
        if (!text.starts_with("/")) return std::nullopt;  // a socket's path is absolute
        // A Unix socket's path must fit sockaddr_un's sun_path (108 octets with its NUL).
        if (text.size() < 2 || text.size() >= kMaxSocketPath) return std::nullopt;
        t.socket_path = std::string(text);
        return t;
    }
    std::string_view host = text;
    std::string_view port;
    if (text.starts_with("[")) {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        std::string_view after = text.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(":")) return std::nullopt;
            port = after.substr(1);
            if (port.empty()) return std::nullopt;
        }
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        if (text.find(':') != colon) return std::nullopt;  // an IPv6 address needs brackets
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty()) return std::nullopt;
    }
    if (host.empty() || host.find_first_of(" \t/[]") != std::string_view::npos) return std::nullopt;
    if (!port.empty()) {
        unsigned n = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc() || p != port.data() + port.size() || n == 0 || n > 65535)
            return std::nullopt;
        t.port = static_cast<std::uint16_t>(n);
    }
    t.host = ascii_lower(host);
    return t;
}

std::string LmtpTarget::str() const {
    if (!socket_path.empty()) return "unix:" + socket_path;
    // Brackets for address literals only, as in mail syntax; a name is "host:port".
    bool literal = host.find(':') != std::string::npos ||
                   host.find_first_not_of("0123456789.") == std::string::npos;
    return (literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace tern::net
