// NextHop: where mail for a destination is sent, in Postfix's relayhost syntax: "[host]:port"
// means that host's own addresses (no MX lookup); "host" or "host:port" means its MX records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::net {

struct NextHop {
    std::string host;  // lower-case name or IP literal, without brackets
    std::uint16_t port = 25;
    bool mx_lookup = true;

    // Parses "[mail.example.net]:587", "[192.0.2.1]", "example.net", "[::1]:25" ...; nullopt
    // when `text` is none of these.
    static std::optional<NextHop> parse(std::string_view text, std::uint16_t default_port);
    // The canonical text form, port included.
    std::string str() const;
};

}  // namespace tern::net
