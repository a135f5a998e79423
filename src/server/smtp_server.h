// SmtpServer: the SMTP listeners. Accepts on one loop, applies the connection limits, and
// starts each accepted session on the next event loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <vector>

#include "net/endpoint.h"
#include "net/event_loops.h"
#include "server/server_context.h"

namespace tern::server {

class SmtpServer {
  public:
    SmtpServer(ServerContext& context, net::EventLoops& loops);

    // Binds every address for listeners of `kind` (errors name the address); call before
    // start().
    Result<void> listen(const std::vector<std::string>& addresses, ListenerKind kind);
    // Starts accepting.
    void start();
    // Closes the listeners; open sessions go on. Safe from any thread.
    void stop_accepting();

    // A reload's listeners, on loop 0 after start(): every address of `wanted` that is not yet
    // listened on is bound first; if one cannot be, nothing changes and the error names it.
    // Then listeners no longer wanted close (their open sessions go on), an address that moved
    // to another kind keeps its socket and takes the new kind, and the new ones start.
    Result<net::ListenerChange> replace(
        const std::vector<std::pair<std::string, ListenerKind>>& wanted);

  private:
    struct Listener {
        std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
        ListenerKind kind;
        boost::asio::ip::tcp::endpoint endpoint;  // as configured (port 0 stays 0)
        std::string text;                         // as the configuration wrote it
    };
    boost::asio::awaitable<void> accept_loop(std::shared_ptr<Listener> listener);

    ServerContext& ctx_;
    net::EventLoops& loops_;
    bool started_ = false;
    std::vector<std::shared_ptr<Listener>> listeners_;  // each also held by its accept loop
};

}  // namespace tern::server
