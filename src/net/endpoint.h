// Parsing of listen addresses ("127.0.0.1:2525", "[::1]:25") into TCP endpoints.
// The text comes from the configuration, which has already checked its shape.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace tern::net {

Result<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& text);

// A listening acceptor on `loop` for the address `text` (address reuse, IPv6 only for IPv6
// addresses, `backlog`); the error names the address.
Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listen_on(boost::asio::io_context& loop,
                                                                  const std::string& text,
                                                                  int backlog);

// A listen address of a reloaded configuration.
struct ListenAddress {
    boost::asio::ip::tcp::endpoint endpoint;
    std::string text;  // as the configuration wrote it
};

// Parses every address of `texts`; one that does not parse or is listed twice is an error.
Result<std::vector<ListenAddress>> parse_listen_list(const std::vector<std::string>& texts);

// What a reload did to a set of listeners, each as "kind address" or "address".
struct ListenerChange {
    std::vector<std::string> opened;
    std::vector<std::string> closed;
};

// An acceptor a reload bound for wanted[index].
struct NewListener {
    std::size_t index;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
};

// Binds each address of `wanted` for which `listening` is false: all of them, or none (those
// bound close again) and the error names the address that failed. Bound before anything of the
// old set closes, so a reload that cannot bind changes nothing.
Result<std::vector<NewListener>> bind_missing(
    boost::asio::io_context& loop, const std::vector<ListenAddress>& wanted,
    const std::function<bool(const boost::asio::ip::tcp::endpoint&)>& listening, int backlog);

}  // namespace tern::net
