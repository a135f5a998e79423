// StreamAddress: where a local service such as a milter listens, in the Sendmail/Postfix form
// "inet:HOST:PORT" (HOST an IP address, IPv6 bare or in brackets) or "unix:/absolute/path".
// The text comes from the configuration; parse() refuses anything else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace tern::net {

struct StreamAddress {
    bool unix_socket = false;
    std::string host;  // IP address, for inet
    std::uint16_t port = 0;
    std::string path;  // for unix

    static Result<StreamAddress> parse(std::string_view text);
    std::string str() const;
};

}  // namespace tern::net
