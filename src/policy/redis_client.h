// RedisClient: an asynchronous RESP2 client over Boost.Asio for the shared policy store: one
// connection (TCP or a Unix socket), commands pipelined in order, a deadline on every command,
// reconnection with backoff, optional AUTH and SELECT. Trusts the server's replies no further
// than resp::Parser's limits.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "policy/resp.h"

namespace tern::policy {

struct RedisOptions {
    std::string address = "127.0.0.1:6379";  // "host:port", "[v6]:port" or a socket path "/..."
    std::string password;                    // AUTH when not empty
    std::uint32_t database = 0;              // SELECT when not 0
    std::chrono::milliseconds timeout{500};  // for one command, connecting included
    std::chrono::milliseconds reconnect_max{5000};  // longest wait between connect attempts
};

class RedisClient {
  public:
    // The connection lives on `executor` (one thread); commands may come from any executor.
    RedisClient(boost::asio::any_io_executor executor, RedisOptions options);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Sends one command and gives its reply (an error reply is a reply), or kTimeout/kTemporary
    // when the server cannot be reached or does not answer within the timeout. Never waits
    // longer than the timeout; while a reconnection waits out its backoff it fails at once.
    // A timeout drops the connection: a server that stalls is treated as gone.
    boost::asio::awaitable<Result<resp::Value>> command(std::vector<std::string> args);

    // Closes the connection and fails every waiting command; later commands reconnect.
    void close();

    const RedisOptions& options() const { return options_; }

  private:
    struct State;
    RedisOptions options_;
    std::shared_ptr<State> state_;
};

}  // namespace tern::policy
