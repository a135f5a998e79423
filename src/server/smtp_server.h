// SmtpServer: the SMTP listeners. Accepts on one loop, applies the connection limits, and
// starts each accepted session on the next event loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <vector>

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

  private:
    struct Listener {
        std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
        ListenerKind kind;
    };
    boost::asio::awaitable<void> accept_loop(Listener& listener);

    ServerContext& ctx_;
    net::EventLoops& loops_;
    std::vector<Listener> listeners_;
};

}  // namespace tern::server
