// Parsing of listen addresses ("127.0.0.1:2525", "[::1]:25") into TCP endpoints.
// The text comes from the configuration, which has already checked its shape.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "base/error.h"

namespace tern::net {

Result<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& text);

}  // namespace tern::net
