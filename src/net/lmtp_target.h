// LmtpTarget: where an LMTP server (RFC 2033) listens, as [local] lmtp names it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::net {

// Where an LMTP server listens: a Unix socket, or a host (name or IP literal) and TCP port.
struct LmtpTarget {
    static constexpr std::size_t kMaxSocketPath = 108;  // sizeof(sockaddr_un::sun_path) on Linux

    std::string socket_path;  // non-empty: a Unix socket
    std::string host;         // else: a name or an IP literal, without brackets
    std::uint16_t port = 24;

    // Parses "unix:/run/dovecot/lmtp", "/run/dovecot/lmtp", "[127.0.0.1]:24", "[::1]:24",
    // "127.0.0.1:24", "localhost:24" or "localhost" (port 24); nullopt for anything else.
    static std::optional<LmtpTarget> parse(std::string_view text);
    // "unix:/run/dovecot/lmtp", "[127.0.0.1]:24" or "localhost:24": the canonical form, for
    // logs and keys (brackets around address literals only).
    std::string str() const;
};

}  // namespace tern::net
