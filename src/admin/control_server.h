// ControlServer: the local control socket (<data_dir>/control.sock, mode 0600) through which
// `tern queue ...` and `tern reload` talk to the running daemon: one JSON request line, one JSON
// reply line.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "log/logger.h"
#include "queue/queue_manager.h"

namespace tern::admin {

class ControlServer {
  public:
    ControlServer(queue::QueueManager& queue, log::Logger& log) : queue_(queue), log_(log) {}

    // Binds the socket on the queue manager's loop, replacing a stale socket file.
    Result<void> listen(const std::string& path);
    void start();
    void stop();  // closes the socket; safe from any thread
    // What {"cmd":"reload"} runs, on the queue manager's loop: the daemon's SIGHUP reload, which
    // returns the reply ({"ok":true,...} or {"ok":false,"error":...}).
    using Reload = std::function<nlohmann::json()>;
    void on_reload(Reload reload) { reload_ = std::move(reload); }

  private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);

    queue::QueueManager& queue_;
    log::Logger& log_;
    Reload reload_;
    std::string path_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
};

// Client side, used by the CLI: sends `request` (one JSON line) to the socket at `path` and
// returns the reply line. Blocking; never used inside the daemon.
Result<std::string> control_request(const std::string& path, const std::string& request);

// control_request() with JSON both ways: the daemon's reply as a JSON object, or an error
// (the daemon is not running, or its reply is not a JSON object: "malformed reply ...").
Result<nlohmann::json> control_call(const std::string& path, const nlohmann::json& request);

}  // namespace tern::admin
