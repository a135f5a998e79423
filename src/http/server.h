// HttpServer: the daemon's one HTTP listener set (Boost.Beast), on which the metrics, health
// check and later the sending API, tracking and dashboard are mounted as routes. HTTP/1.1 with
// keep-alive, optionally TLS with the server certificates; every request bounded in size and
// time; errors as JSON. Handlers hold the logic; this file only speaks HTTP (docs/http.md).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "log/logger.h"
#include "net/endpoint.h"
#include "net/event_loops.h"

namespace tern::tls {
class ServerContext;
}

namespace tern::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;
using Verb = boost::beast::http::verb;

// What a handler may know of the connection a request came on.
struct Peer {
    boost::asio::ip::address address;
    bool tls = false;
};

using Handler = std::function<boost::asio::awaitable<Response>(const Request&, const Peer&)>;

struct ServerOptions {
    std::vector<std::string> listen;                 // "127.0.0.1:8025", "[::1]:8025"
    tls::ServerContext* tls = nullptr;               // every listener speaks TLS when set
    std::size_t max_header_size = 16 * 1024;         // request line and header fields: else 431
    std::uint64_t max_body_size = 10 * 1024 * 1024;  // else 413
    std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // a whole request
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};     // between requests
    std::size_t max_connections = 256;                                    // else 503
    std::size_t max_requests_per_connection = 1000;
};

// Responses in the shapes every route uses.
Response text_response(Status status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
// {"error": message} (and "field" when given): the JSON error of every route.
Response json_error(Status status, std::string_view message, std::string_view field = {});
Response json_response(Status status, std::string body);

class HttpServer {
  public:
    HttpServer(ServerOptions options, net::EventLoops& loops, log::Logger& log);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // `path` is matched exactly, or as a prefix when it ends in '/'. Call before start().
    void route(Verb method, std::string path, Handler handler);

    // Binds every address (errors name it); call before start().
    Result<void> listen();
    // A reload's addresses, on loop 0 after start(): the new ones are bound first (if one
    // cannot be, nothing changes and the error names it), then listeners no longer wanted
    // close; their open connections go on.
    Result<net::ListenerChange> replace_listeners(const std::vector<std::string>& listen);
    // The size, time and connection limits of `limits` from now (a reload): each connection
    // keeps those it was accepted with. Listeners and TLS stay as they are. Safe from any thread.
    void set_limits(const ServerOptions& limits);
    void start();
    // Closes the listeners and every open connection; safe from any thread.
    void stop();

    // The addresses bound (for logs and tests: a port 0 listen gets its real port).
    std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;

    // Answers one request as a connection would (routing, 404/405, handler failures); used by
    // the connections and by tests.
    boost::asio::awaitable<Response> answer(const Request& request, const Peer& peer);

  private:
    struct Route {
        Verb method;
        std::string path;
        Handler handler;
    };
    struct Connection;
    struct Listener {
        std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor;  // also held by its loop
        net::ListenAddress address;                                // as configured
    };
    boost::asio::awaitable<void> accept_loop(
        std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor);
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
    template <class Stream>
    boost::asio::awaitable<void> exchange(Stream& stream, const Peer& peer,
                                          const ServerOptions& limits);

    ServerOptions options_;
    std::atomic<std::shared_ptr<const ServerOptions>> limits_;  // options_ or a reload's
    net::EventLoops& loops_;
    log::Logger& log_;
    std::vector<Route> routes_;
    std::vector<Listener> acceptors_;
    bool started_ = false;
    std::atomic<std::size_t> open_{0};
    std::mutex connections_mutex_;
    std::list<std::weak_ptr<Connection>> connections_;
    std::atomic<bool> stopped_{false};
};

}  // namespace tern::http
