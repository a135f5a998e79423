// Parsing of listen addresses ("127.0.0.1:2525", "[::1]:25") into TCP endpoints.
// The text comes from the configuration, which has already checked its shape.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "base/error.h"

namespace tern::net {

Result<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& text);

// A listening acceptor on `loop` for the address `text` (address reuse, IPv6 only for IPv6
// addresses, `backlog`); the error names the address.
Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listen_on(boost::asio::io_context& loop,
                                                                  const std::string& text,
                                                                  int backlog);

}  // namespace tern::net
