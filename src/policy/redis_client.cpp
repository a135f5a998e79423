// RedisClient: all connection state is touched on the client's executor only. A read is
// outstanding only while replies are awaited, and no timer runs while idle, so an idle client
// keeps no work on its event loop (the daemon's loops end when their work does).
#include "policy/redis_client.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <optional>

namespace tern::policy {
namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;
using resp::Value;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};

struct Call {
    explicit Call(asio::any_io_executor ex) : wake(ex) {}
    std::optional<Result<Value>> result;
    asio::steady_timer wake;
    bool handshake = false;  // AUTH or SELECT: an error reply fails the connection
};

}  // namespace

struct RedisClient::State : std::enable_shared_from_this<State> {
    State(asio::any_io_executor e, RedisOptions o) : ex(std::move(e)), options(std::move(o)) {}

    asio::any_io_executor ex;
    RedisOptions options;
    enum class Phase { kDown, kConnecting, kUp } phase = Phase::kDown;
    std::shared_ptr<Socket> socket;  // the current connection; replaced on each reconnect
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::milliseconds backoff = kFirstBackoff;
    std::deque<std::shared_ptr<Call>> pending;  // sent, replies awaited in this order
    std::vector<std::pair<std::string, std::shared_ptr<Call>>> waiting;  // for the connection
    std::string out;
    bool writing = false;
    bool reading = false;
    resp::Parser parser;

    static void complete(const std::shared_ptr<Call>& call, Result<Value> r) {
        if (call->result) return;
        call->result = std::move(r);
        call->wake.cancel();
    }

    // Drops the connection: every call in flight fails with `why`, the next connect waits.
    void drop(const std::string& why) {
        if (socket) {
            boost::system::error_code ignored;
            socket->close(ignored);
            socket.reset();
        }
        phase = Phase::kDown;
        retry_at = std::chrono::steady_clock::now() + backoff;
        backoff = std::min(backoff * 2, std::max(options.reconnect_max, kFirstBackoff));
        Error e{ErrorCode::kTemporary, "redis " + options.address + ": " + why};
        auto calls = std::move(pending);
        pending.clear();
        auto queued = std::move(waiting);
        waiting.clear();
        out.clear();
        writing = false;
        reading = false;
        parser = resp::Parser{};
        for (auto& c : calls)
            complete(c, std::unexpected(e));
        for (auto& [wire, c] : queued)
            complete(c, std::unexpected(e));
    }

    void send(std::string wire, std::shared_ptr<Call> call) {
        pending.push_back(std::move(call));
        out += wire;
        auto self = shared_from_this();
        if (!writing) {
            writing = true;
            asio::co_spawn(ex, self->write_loop(socket), asio::detached);
        }
        if (!reading) {
            reading = true;
            asio::co_spawn(ex, self->read_loop(socket), asio::detached);
        }
    }

    asio::awaitable<void> write_loop(std::shared_ptr<Socket> sock) {
        auto self = shared_from_this();
        while (!out.empty()) {
            std::string buf;
            buf.swap(out);
            auto [ec, n] = co_await asio::async_write(*sock, asio::buffer(buf),
                                                      asio::as_tuple(asio::use_awaitable));
            if (sock != socket) co_return;  // dropped meanwhile
            if (ec) {
                drop("write: " + ec.message());
                co_return;
            }
        }
        writing = false;
    }

    asio::awaitable<void> read_loop(std::shared_ptr<Socket> sock) {
        auto self = shared_from_this();
        std::array<char, 4096> buf;
        while (!pending.empty()) {
            auto [ec, n] = co_await sock->async_read_some(asio::buffer(buf),
                                                          asio::as_tuple(asio::use_awaitable));
            if (sock != socket) co_return;
            if (ec) {
                drop(ec == asio::error::eof ? std::string("connection closed")
                                            : "read: " + ec.message());
                co_return;
            }
            parser.feed(std::string_view(buf.data(), n));
            while (auto v = parser.next()) {
                if (pending.empty()) {
                    drop("a reply nobody asked for");
                    co_return;
                }
                auto call = std::move(pending.front());
                pending.pop_front();
                if (call->handshake && v->type == Value::Type::kError) {
                    drop("handshake refused: " + v->text);
                    co_return;
                }
                complete(call, std::move(*v));
            }
            if (parser.failed()) {
                drop("protocol error: " + parser.error());
                co_return;
            }
        }
        reading = false;
    }

    asio::awaitable<Result<asio::generic::stream_protocol::endpoint>> endpoint() {
        const std::string& a = options.address;
        if (!a.empty() && a.front() == '/') co_return asio::local::stream_protocol::endpoint(a);
        auto colon = a.rfind(':');
        if (colon == std::string::npos || colon == 0)
            co_return fail(ErrorCode::kInvalid, "not host:port");
        std::string host = a.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        asio::ip::tcp::resolver resolver(ex);
        auto [ec, results] = co_await resolver.async_resolve(host, a.substr(colon + 1),
                                                             asio::as_tuple(asio::use_awaitable));
        if (ec || results.empty())
            co_return fail(ErrorCode::kTemporary, "resolve: " + ec.message());
        co_return asio::generic::stream_protocol::endpoint(results.begin()->endpoint());
    }

    void handshake(const char* verb, const std::string& arg) {
        auto call = std::make_shared<Call>(ex);
        call->handshake = true;
        std::vector<std::string> args;
        args.push_back(verb);
        args.push_back(arg);
        send(resp::encode_command(args), call);
    }

    asio::awaitable<void> connect() {
        auto self = shared_from_this();
        auto sock = std::make_shared<Socket>(ex);
        socket = sock;
        auto ep = co_await endpoint();
        if (sock != socket) co_return;  // timed out meanwhile
        if (!ep) {
            drop(ep.error().message);
            co_return;
        }
        auto [ec] = co_await sock->async_connect(*ep, asio::as_tuple(asio::use_awaitable));
        if (sock != socket) co_return;
        if (ec) {
            drop("connect: " + ec.message());
            co_return;
        }
        phase = Phase::kUp;
        backoff = kFirstBackoff;
        if (!options.password.empty()) handshake("AUTH", options.password);
        if (options.database != 0) handshake("SELECT", std::to_string(options.database));
        auto queued = std::move(waiting);
        waiting.clear();
        for (auto& [wire, call] : queued)
            if (!call->result) send(std::move(wire), call);
    }

    asio::awaitable<Result<Value>> run(std::vector<std::string> args) {
        auto self = shared_from_this();
        auto call = std::make_shared<Call>(ex);
        call->wake.expires_after(options.timeout);
        if (phase == Phase::kDown) {
            if (std::chrono::steady_clock::now() < retry_at)
                co_return fail(ErrorCode::kTemporary,
                               "redis " + options.address + ": waiting to reconnect");
            phase = Phase::kConnecting;
            asio::co_spawn(ex, connect(), asio::detached);
        }
        if (phase == Phase::kConnecting)
            waiting.emplace_back(resp::encode_command(args), call);
        else
            send(resp::encode_command(args), call);
        co_await call->wake.async_wait(asio::as_tuple(asio::use_awaitable));
        if (call->result) co_return std::move(*call->result);
        drop("no answer within " + std::to_string(options.timeout.count()) + "ms");
        co_return fail(ErrorCode::kTimeout, "redis " + options.address + ": no answer within " +
                                                std::to_string(options.timeout.count()) + "ms");
    }
};

RedisClient::RedisClient(asio::any_io_executor executor, RedisOptions options)
    : options_(options), state_(std::make_shared<State>(std::move(executor), std::move(options))) {}

// The state goes with the last coroutine that holds it; an idle one holds none.
RedisClient::~RedisClient() = default;

asio::awaitable<Result<Value>> RedisClient::command(std::vector<std::string> args) {
    co_return co_await asio::co_spawn(state_->ex, state_->run(std::move(args)),
                                      asio::use_awaitable);
}

void RedisClient::close() {
    asio::post(state_->ex, [s = state_] {
        if (s->socket) s->drop("closed");
        s->retry_at = {};
    });
}

}  // namespace tern::policy
