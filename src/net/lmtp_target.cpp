// LmtpTarget: parsing "unix:/path", "/path", and (as a next hop) "[address]:port",
// "host:port" and "host".
#include "net/lmtp_target.h"

#include "net/next_hop.h"

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
    // "[address]:port", "host:port", "host": a next hop's syntax, without its MX meaning.
    if (text.find('/') != std::string_view::npos) return std::nullopt;
    auto hop = NextHop::parse(text, t.port);
    if (!hop) return std::nullopt;
    t.host = std::move(hop->host);
    t.port = hop->port;
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
