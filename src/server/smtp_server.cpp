// SmtpServer: listener set-up, the accept loop, and the 421 refusal of connections over a
// limit (RFC 5321 section 3.8: a server may refuse with 421 at the greeting).
#include "server/smtp_server.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/endpoint.h"
#include "server/inbound_connection.h"

namespace tern::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string client_of(const tcp::socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return "unknown";
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
    return addr.to_string();
}

asio::awaitable<void> refuse(tcp::socket socket, std::string text) {
    asio::steady_timer timer(socket.get_executor());
    timer.expires_after(std::chrono::seconds(10));
    timer.async_wait([&socket](boost::system::error_code ec) {
        if (!ec) socket.close(ec);
    });
    co_await asio::async_write(socket, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    timer.cancel();
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

}  // namespace

SmtpServer::SmtpServer(ServerContext& context, net::EventLoops& loops)
    : ctx_(context), loops_(loops) {}

Result<void> SmtpServer::listen(const std::vector<std::string>& addresses, ListenerKind kind) {
    for (const auto& text : addresses) {
        auto endpoint = net::parse_endpoint(text);
        if (!endpoint) return std::unexpected(endpoint.error());
        auto acceptor = net::listen_on(loops_.loop(0), text, 4096);
        if (!acceptor) return std::unexpected(acceptor.error());
        listeners_.push_back(
            std::make_shared<Listener>(std::move(*acceptor), kind, *endpoint, text));
    }
    return {};
}

void SmtpServer::start() {
    started_ = true;
    for (auto& l : listeners_)
        asio::co_spawn(loops_.loop(0), accept_loop(l), asio::detached);
}

Result<net::ListenerChange> SmtpServer::replace(
    const std::vector<std::pair<std::string, ListenerKind>>& wanted) {
    if (!ctx_.accepting) return net::ListenerChange{};  // shutting down: nothing opens again
    std::vector<std::string> texts;
    for (const auto& w : wanted)
        texts.push_back(w.first);
    auto want = net::parse_listen_list(texts);
    if (!want) return std::unexpected(want.error());
    auto label = [](ListenerKind kind, const std::string& text) {
        return std::string(listener_name(kind)) + " " + text;
    };
    auto fresh = net::bind_missing(
        loops_.loop(0), *want,
        [this](const tcp::endpoint& e) {
            return std::any_of(listeners_.begin(), listeners_.end(),
                               [&e](const auto& l) { return l->endpoint == e; });
        },
        4096);
    if (!fresh) return std::unexpected(fresh.error());
    net::ListenerChange change;
    std::erase_if(listeners_, [&](const std::shared_ptr<Listener>& l) {
        for (std::size_t i = 0; i < want->size(); ++i) {
            if ((*want)[i].endpoint != l->endpoint) continue;
            if (wanted[i].second != l->kind) {
                change.closed.push_back(label(l->kind, l->text));
                change.opened.push_back(label(wanted[i].second, l->text));
                l->kind = wanted[i].second;  // the accept loop runs on this loop too
            }
            return false;
        }
        change.closed.push_back(label(l->kind, l->text));
        boost::system::error_code ec;
        l->acceptor->close(ec);  // its accept loop ends; open sessions go on
        return true;
    });
    for (auto& n : *fresh) {
        const auto& address = (*want)[n.index];
        auto l = std::make_shared<Listener>(std::move(n.acceptor), wanted[n.index].second,
                                            address.endpoint, address.text);
        change.opened.push_back(label(l->kind, l->text));
        listeners_.push_back(l);
        if (started_) asio::co_spawn(loops_.loop(0), accept_loop(l), asio::detached);
    }
    return change;
}

void SmtpServer::stop_accepting() {
    ctx_.accepting = false;
    asio::post(loops_.loop(0), [this] {
        for (auto& l : listeners_) {
            boost::system::error_code ec;
            l->acceptor->close(ec);
        }
    });
}

asio::awaitable<void> SmtpServer::accept_loop(std::shared_ptr<Listener> listener) {
    auto& acceptor = *listener->acceptor;
    while (acceptor.is_open()) {
        auto& loop = loops_.next();
        auto [ec, accepted] =
            co_await acceptor.async_accept(loop, asio::as_tuple(asio::use_awaitable));
        tcp::socket socket(std::move(accepted));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
            // Out of descriptors or similar: back off briefly instead of spinning.
            ctx_.log.warn("accept", {{"error", ec.message()}});
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        std::string client = client_of(socket);
        net::ConnectionLimits::Slot slot;
        auto verdict = ctx_.limits.acquire(client, slot);
        if (verdict != net::ConnectionLimits::Verdict::kAccepted) {
            auto name = verdict == net::ConnectionLimits::Verdict::kTooManyTotal
                            ? smtp::ReplyName::kTooManyConnections
                            : smtp::ReplyName::kTooManyFromClient;
            ctx_.log.warn("connection_refused",
                          {{"client", client},
                           {"reason", verdict == net::ConnectionLimits::Verdict::kTooManyTotal
                                          ? "limits.connections"
                                          : "limits.connections_per_client"}});
            if (ctx_.metrics)
                ctx_.metrics->refused
                    .counter({verdict == net::ConnectionLimits::Verdict::kTooManyTotal
                                  ? "limits.connections"
                                  : "limits.connections_per_client"})
                    .add();
            asio::co_spawn(loop, refuse(std::move(socket), smtp::reply(name).render()),
                           asio::detached);
            continue;
        }
        auto connection = std::make_shared<InboundConnection>(ctx_, std::move(socket),
                                                              std::move(slot), listener->kind);
        // The completion handler keeps the connection alive until run() has returned; no
        // wrapping coroutine, whose frame every open connection would hold.
        auto& c = *connection;
        asio::co_spawn(loop, c.run(), [connection](const std::exception_ptr&) {});
    }
}

}  // namespace tern::server
