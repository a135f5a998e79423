// InboundConnection: drives one client connection. Reads bytes into the sans-I/O
// ServerSession and carries out its actions: replies, policy checks, spooling, closing.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "net/connection_limits.h"
#include "server/server_context.h"
#include "smtp/server_session.h"

namespace tern::server {

class InboundConnection : public std::enable_shared_from_this<InboundConnection> {
  public:
    InboundConnection(ServerContext& context, boost::asio::ip::tcp::socket socket,
                      net::ConnectionLimits::Slot slot);
    ~InboundConnection();

    // Serves the connection to its end. Spawn with a shared_ptr kept alive by the caller.
    boost::asio::awaitable<void> run();

  private:
    boost::asio::awaitable<void> watchdog();
    boost::asio::awaitable<void> perform();
    boost::asio::awaitable<bool> flush();
    void begin_message();
    boost::asio::awaitable<smtp::Reply> commit_message();
    void request_stop();
    void set_deadline(std::chrono::seconds timeout);
    smtp::SessionOptions session_options() const;

    ServerContext& ctx_;
    boost::asio::ip::tcp::socket socket_;
    net::ConnectionLimits::Slot slot_;
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_;
    bool timed_out_ = false;       // the watchdog cancelled a read or write
    bool stop_requested_ = false;  // shutdown reached this session
    bool closed_ = false;
    std::uint64_t registry_key_ = 0;

    std::string client_ip_;
    smtp::ServerSession session_;
    std::string out_;                               // replies not yet written
    std::unique_ptr<spool::MessageWriter> writer_;  // the message being received
    std::optional<Error> writer_error_;             // why writer_ could not be created
    std::size_t messages_ = 0;
};

}  // namespace tern::server
