// HttpServer: listeners, the accept loop with its connection limit, one connection's request
// loop (keep-alive, limits, deadlines, 100-continue), and routing.
#include "http/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <nlohmann/json.hpp>

#include "net/endpoint.h"
#include "tls/server_context.h"

namespace tern::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// An open connection, so stop() can close it from another thread.
struct HttpServer::Connection {
    asio::any_io_executor executor;
    tcp::socket* socket = nullptr;  // null once the connection has ended
};

namespace {

bool path_matches(const std::string& route, std::string_view path) {
    if (!route.empty() && route.back() == '/') return path.starts_with(route);
    return path == route;
}

// The 503 of a connection over the limit: written at once into the fresh socket's empty send
// buffer (it cannot block), then the socket closes.
void refuse(tcp::socket& socket) {
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: 34\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
        "{\"error\":\"too many connections\"}\n";
    ::send(socket.native_handle(), kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

bool is_parse_error(const boost::system::error_code& ec) {
    return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category();
}

}  // namespace

Response text_response(Status status, std::string body, std::string content_type) {
    Response r{status, 11};
    r.set(bhttp::field::content_type, content_type);
    r.set(bhttp::field::cache_control, "no-store");
    r.body() = std::move(body);
    return r;
}

Response json_response(Status status, std::string body) {
    return text_response(status, std::move(body), "application/json");
}

Response json_error(Status status, std::string_view message, std::string_view field) {
    nlohmann::json j{{"error", message}};
    if (!field.empty()) j["field"] = field;
    // A message may quote what a client sent: octets that are not UTF-8 become U+FFFD.
    return json_response(status,
                         j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

HttpServer::HttpServer(ServerOptions options, net::EventLoops& loops, log::Logger& log)
    : options_(std::move(options)),
      limits_(std::make_shared<const ServerOptions>(options_)),
      loops_(loops),
      log_(log) {}

void HttpServer::set_limits(const ServerOptions& limits) {
    limits_.store(std::make_shared<const ServerOptions>(limits));  // its listen and tls unused
}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::route(Verb method, std::string path, Handler handler) {
    routes_.push_back(Route{method, std::move(path), std::move(handler)});
}

Result<void> HttpServer::listen() {
    auto wanted = net::parse_listen_list(options_.listen);
    if (!wanted) return std::unexpected(wanted.error());
    for (auto& address : *wanted) {
        auto acceptor = net::listen_on(loops_.loop(0), address.text, 1024);
        if (!acceptor) return std::unexpected(acceptor.error());
        acceptors_.push_back({std::move(*acceptor), std::move(address)});
    }
    return {};
}

Result<net::ListenerChange> HttpServer::replace_listeners(const std::vector<std::string>& listen) {
    if (stopped_) return net::ListenerChange{};
    auto wanted = net::parse_listen_list(listen);
    if (!wanted) return std::unexpected(wanted.error());
    auto fresh = net::bind_missing(
        loops_.loop(0), *wanted,
        [this](const tcp::endpoint& e) {
            return std::any_of(acceptors_.begin(), acceptors_.end(),
                               [&e](const Listener& l) { return l.address.endpoint == e; });
        },
        1024);
    if (!fresh) return std::unexpected(fresh.error());
    net::ListenerChange change;
    std::erase_if(acceptors_, [&](const Listener& l) {
        bool kept = std::any_of(wanted->begin(), wanted->end(),
                                [&l](const auto& w) { return w.endpoint == l.address.endpoint; });
        if (kept) return false;
        change.closed.push_back(l.address.text);
        boost::system::error_code ec;
        l.acceptor->close(ec);  // its accept loop ends; open connections go on
        return true;
    });
    for (auto& n : *fresh) {
        Listener l{std::move(n.acceptor), (*wanted)[n.index]};
        change.opened.push_back(l.address.text);
        if (started_) asio::co_spawn(loops_.loop(0), accept_loop(l.acceptor), asio::detached);
        acceptors_.push_back(std::move(l));
    }
    return change;
}

std::vector<tcp::endpoint> HttpServer::endpoints() const {
    std::vector<tcp::endpoint> out;
    for (const auto& a : acceptors_) {
        boost::system::error_code ec;
        auto e = a.acceptor->local_endpoint(ec);
        if (!ec) out.push_back(e);
    }
    return out;
}

void HttpServer::start() {
    started_ = true;
    for (auto& a : acceptors_)
        asio::co_spawn(loops_.loop(0), accept_loop(a.acceptor), asio::detached);
}

void HttpServer::stop() {
    if (stopped_.exchange(true)) return;
    for (auto& a : acceptors_) {
        asio::post(a.acceptor->get_executor(), [acceptor = a.acceptor] {
            boost::system::error_code ec;
            acceptor->close(ec);
        });
    }
    std::lock_guard lock(connections_mutex_);
    for (auto& weak : connections_) {
        auto c = weak.lock();
        if (!c) continue;
        // On the connection's own loop, where its coroutine runs: the socket is alive as long
        // as the connection says so.
        asio::post(c->executor, [weak] {
            if (auto c = weak.lock(); c && c->socket) {
                boost::system::error_code ec;
                c->socket->close(ec);
            }
        });
    }
}

asio::awaitable<void> HttpServer::accept_loop(std::shared_ptr<tcp::acceptor> held) {
    auto& acceptor = *held;
    while (acceptor.is_open() && !stopped_) {
        auto& loop = loops_.next();
        auto [ec, accepted] = co_await acceptor.async_accept(loop, kTuple);
        tcp::socket socket(std::move(accepted));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
            // Out of descriptors or a connection reset before accept: pause, then go on.
            log_.warn("http_accept", {{"error", ec.message()}});
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(kTuple);
            continue;
        }
        if (open_.load() >= limits_.load()->max_connections) {
            if (!options_.tls) refuse(socket);
            log_.warn("http_refused", {{"reason", "max_connections"}});
            continue;
        }
        ++open_;
        asio::co_spawn(loop, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
    Peer peer;
    boost::system::error_code ec;
    if (auto remote = socket.remote_endpoint(ec); !ec) peer.address = remote.address();
    peer.tls = options_.tls != nullptr;
    auto limits = limits_.load();  // this connection's, to its end
    auto connection = std::make_shared<Connection>();
    connection->executor = socket.get_executor();
    {
        std::lock_guard lock(connections_mutex_);
        std::erase_if(connections_, [](const auto& w) { return w.expired(); });
        connections_.push_back(connection);
    }
    if (options_.tls) {
        auto context = options_.tls->context();  // kept for the connection's life
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *context);
        connection->socket = &beast::get_lowest_layer(stream).socket();
        beast::get_lowest_layer(stream).expires_after(limits->request_timeout);
        auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
        if (!hs && !stopped_) co_await exchange(stream, peer, *limits);
        connection->socket = nullptr;
    } else {
        beast::tcp_stream stream(std::move(socket));
        connection->socket = &stream.socket();
        if (!stopped_) co_await exchange(stream, peer, *limits);
        connection->socket = nullptr;
    }
    --open_;
}

template <class Stream>
asio::awaitable<void> HttpServer::exchange(Stream& stream, const Peer& peer,
                                           const ServerOptions& limits) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    for (std::size_t n = 0; n < limits.max_requests_per_connection && !stopped_; ++n) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(
            static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_size, UINT32_MAX)));
        parser.body_limit(limits.max_body_size);
        // A kept-alive connection waits up to idle_timeout for its next request.
        tcp_layer.expires_after(n == 0 ? limits.request_timeout : limits.idle_timeout);
        auto [ec, unused] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
        if (!ec) {
            tcp_layer.expires_after(limits.request_timeout);
            auto expect = parser.get()[bhttp::field::expect];
            if (beast::iequals(expect, "100-continue")) {
                bhttp::response<bhttp::empty_body> go_on{Status::continue_, 11};
                auto [wec, w] = co_await bhttp::async_write(stream, go_on, kTuple);
                if (wec) co_return;
            }
            std::tie(ec, unused) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        }
        if (ec) {
            // A closed or timed-out connection gets no answer; a bad request gets a precise
            // one and the connection closes (its framing cannot be trusted).
            Response refusal;
            if (ec == bhttp::error::body_limit) {
                refusal = json_error(Status::payload_too_large,
                                     fmt::format("request body over {} octets (http.max_body)",
                                                 limits.max_body_size));
            } else if (ec == bhttp::error::header_limit) {
                refusal = json_error(
                    Status::request_header_fields_too_large,
                    fmt::format("request header over {} octets", limits.max_header_size));
            } else if (is_parse_error(ec) && ec != bhttp::error::end_of_stream &&
                       ec != bhttp::error::partial_message) {
                refusal = json_error(Status::bad_request, "malformed request: " + ec.message());
            } else {
                co_return;
            }
            refusal.keep_alive(false);
            refusal.prepare_payload();
            tcp_layer.expires_after(limits.request_timeout);
            co_await bhttp::async_write(stream, refusal, kTuple);
            co_return;
        }
        Request request = parser.release();
        Response response = co_await answer(request, peer);
        bool keep = request.keep_alive() && n + 1 < limits.max_requests_per_connection && !stopped_;
        response.version(request.version() == 10 ? 10 : 11);
        response.keep_alive(keep);
        response.prepare_payload();
        if (request.method() == Verb::head) response.body().clear();  // the length stays
        log_.debug("http", {{"client", peer.address.to_string()},
                            {"method", std::string(request.method_string())},
                            {"target", std::string(request.target())},
                            {"status", response.result_int()}});
        tcp_layer.expires_after(limits.request_timeout);
        auto [wec, w] = co_await bhttp::async_write(stream, response, kTuple);
        if (wec || !keep) break;
    }
    boost::system::error_code ignored;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<Response> HttpServer::answer(const Request& request, const Peer& peer) {
    std::string_view path = request.target();
    path = path.substr(0, path.find('?'));
    Verb method = request.method() == Verb::head ? Verb::get : request.method();
    const Route* found = nullptr;
    std::string allowed;
    for (const auto& r : routes_) {
        if (!path_matches(r.path, path)) continue;
        if (r.method == method) {
            found = &r;
            break;
        }
        if (!allowed.empty()) allowed += ", ";
        allowed += std::string(bhttp::to_string(r.method));
        if (r.method == Verb::get) allowed += ", HEAD";
    }
    if (!found && allowed.empty()) co_return json_error(Status::not_found, "no such resource");
    if (!found) {
        Response r = json_error(Status::method_not_allowed, "method not allowed");
        r.set(bhttp::field::allow, allowed);
        co_return r;
    }
    try {
        co_return co_await found->handler(request, peer);
    } catch (const std::exception& e) {
        log_.error("http_handler",
                   {{"target", std::string(request.target())}, {"error", e.what()}});
    }
    co_return json_error(Status::internal_server_error, "internal error");
}

}  // namespace tern::http
