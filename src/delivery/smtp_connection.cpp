// SmtpTransport, connections: connecting to one server, reading and writing with the RFC 5321
// 4.5.3.2 timeouts, STARTTLS, driving the ClientSession and streaming the message body.
#include "delivery/smtp_connection.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>

#include "base/text.h"
#include "delivery/outbound_text.h"
#include "delivery/smtp_transport.h"
#include "dns/records.h"
#include "smtp/client_session.h"
#include "smtp/data_encoder.h"

namespace tern::delivery {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using queue::Outcome;
using queue::RecipientResult;

asio::awaitable<std::unique_ptr<SmtpTransport::Connection>> SmtpTransport::connect(
    const Target& target, tls::PeerRequirement need, Failure& error) {
    auto c = co_await open(target, need, error);
    if (!c && need.level == tls::Level::kMay &&
        error.reply.find(" TLS handshake ") != std::string::npos) {
        // Opportunistic TLS (RFC 3207 4.1): a server whose TLS fails gets the mail in plain
        // text rather than never, as Postfix does at level "may".
        log_.warn("tls_fallback",
                  {{"host", target.host}, {"address", target.address}, {"error", error.reply}});
        need.level = tls::Level::kNone;
        c = co_await open(target, need, error);
    }
    co_return c;
}

asio::awaitable<std::unique_ptr<SmtpTransport::Connection>> SmtpTransport::open(
    const Target& target, const tls::PeerRequirement& need, Failure& error) {
    auto ex = co_await asio::this_coro::executor;
    smtp::ClientOptions o;
    o.helo_name = options_.helo_name;
    o.starttls = need.level != tls::Level::kNone;
    o.require_tls = need.level >= tls::Level::kEncrypt;
    auto c = std::make_unique<Connection>(ex, std::move(o));
    c->need = need;
    c->label = target.label();
    boost::system::error_code ec;
    auto address = asio::ip::make_address(target.address, ec);
    if (ec) {
        error = Failure{"451 4.4.1 bad address " + target.address};
        co_return nullptr;
    }
    c->timer.expires_after(peer()->connect_timeout);
    auto r = co_await (c->socket.async_connect(tcp::endpoint(address, target.port),
                                               asio::as_tuple(asio::use_awaitable)) ||
                       c->timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) {
        error = Failure{"451 4.4.1 connect to " + c->label + ": timed out"};
        co_return nullptr;
    }
    if (auto [cec] = std::get<0>(r); cec) {
        error = Failure{"451 4.4.1 connect to " + c->label + ": " + cec.message()};
        co_return nullptr;
    }
    c->socket.set_option(tcp::no_delay(true), ec);
    if (!co_await drive(*c, nullptr, nullptr) || !c->session.ready()) {
        error = c->failure();
        if (error.reply.empty()) error = Failure{"451 4.4.2 " + c->label + " closed the session"};
        if (!c->broken) co_await quit(std::move(c));
        co_return nullptr;
    }
    co_return c;
}

asio::awaitable<bool> SmtpTransport::write(Connection& c, std::string_view data,
                                           std::chrono::seconds limit) {
    c.timer.expires_after(limit);
    if (c.tls) {
        auto r = co_await (
            asio::async_write(*c.tls, asio::buffer(data), asio::as_tuple(asio::use_awaitable)) ||
            c.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        co_return r.index() == 0 && !std::get<0>(std::get<0>(r));
    }
    auto r = co_await (
        asio::async_write(c.socket, asio::buffer(data), asio::as_tuple(asio::use_awaitable)) ||
        c.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    co_return r.index() == 0 && !std::get<0>(std::get<0>(r));
}

asio::awaitable<SmtpTransport::ReadResult> SmtpTransport::read(Connection& c,
                                                               std::chrono::seconds limit) {
    c.timer.expires_after(limit);
    auto buf = asio::buffer(c.input);
    std::variant<std::tuple<boost::system::error_code, std::size_t>,
                 std::tuple<boost::system::error_code>>
        r;
    if (c.tls)
        r = co_await (c.tls->async_read_some(buf, asio::as_tuple(asio::use_awaitable)) ||
                      c.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    else
        r = co_await (c.socket.async_read_some(buf, asio::as_tuple(asio::use_awaitable)) ||
                      c.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) co_return ReadResult{false, true, 0};
    auto [ec, n] = std::get<0>(r);
    co_return ReadResult{!ec, false, n};
}

asio::awaitable<bool> SmtpTransport::start_tls(Connection& c) {
    // The socket moves under the TLS stream; from here on all I/O goes through it.
    c.tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(c.socket), tls_->context());
    if (auto r = tls_->prepare(c.tls->native_handle(), c.need); !r) {
        c.error = "451 4.7.5 TLS with " + c.label + ": " + r.error().message;
        c.tls_problem = TlsProblem::kNoTls;
        count_tls_failure("setup");
        co_return false;
    }
    c.timer.expires_after(peer()->command_timeout);
    auto r = co_await (c.tls->async_handshake(asio::ssl::stream_base::client,
                                              asio::as_tuple(asio::use_awaitable)) ||
                       c.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1 || std::get<0>(std::get<0>(r))) {
        c.error = "451 4.7.5 TLS handshake with " + c.label + " failed" +
                  (r.index() == 1 ? std::string(": timed out")
                                  : ": " + std::get<0>(std::get<0>(r)).message());
        // A handshake that timed out may succeed later; one the server refused will not.
        if (r.index() == 0) c.tls_problem = TlsProblem::kNoTls;
        count_tls_failure(r.index() == 1 ? "timeout" : "handshake");
        co_return false;
    }
    c.tls_session = tls_->inspect(c.tls->native_handle(), c.need);
    if (c.need.level >= tls::Level::kVerify && !c.tls_session.verified) {
        // RFC 7672 2.2 / RFC 8461 5: a server that fails authentication is not used.
        c.error = "451 4.7.5 certificate of " + c.label + " not accepted (" + c.need.source +
                  "): " + c.tls_session.verify_error;
        c.tls_problem = TlsProblem::kCertificate;
        count_tls_failure("certificate");
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> SmtpTransport::drive(Connection& c, const spool::Message* m,
                                           const spool::TextReader* text) {
    auto fail = [&](std::string why) {
        c.broken = true;
        c.error = std::move(why);
        boost::system::error_code ignored;
        c.lowest().close(ignored);
    };
    while (!c.broken) {
        bool settled = false;
        bool ok = true;
        bool more = false;  // the session has new actions to take before anything is read
        for (auto& a : c.session.take_actions()) {
            if (c.broken) break;
            switch (a.kind) {
                case smtp::ClientActionKind::kSend:
                    if (!co_await write(c, a.data, peer()->command_timeout))
                        fail("451 4.4.2 lost connection with " + c.label + " while sending");
                    break;
                case smtp::ClientActionKind::kSendBody:
                    if (!m || !text || !co_await send_body(c, *m, *text, a.data)) {
                        if (!c.broken)
                            fail("451 4.4.2 lost connection with " + c.label +
                                 " while sending the message");
                    }
                    break;
                case smtp::ClientActionKind::kStartTls: {
                    bool ok_tls = tls_ && co_await start_tls(c);
                    if (!ok_tls) {
                        if (c.error.empty()) {
                            c.error = "451 4.7.5 TLS is not available";
                            c.tls_problem = TlsProblem::kNoTls;
                        }
                        std::string why = c.error;
                        fail(why);
                        break;
                    }
                    // The EHLO that tls_started() queues must go out before the reply is read.
                    c.session.tls_started(true);
                    more = true;
                    break;
                }
                case smtp::ClientActionKind::kReady:
                case smtp::ClientActionKind::kDone:
                    settled = true;
                    break;
                case smtp::ClientActionKind::kFailed:
                    settled = true;
                    ok = false;
                    break;
            }
        }
        if (c.broken) co_return false;
        if (settled) co_return ok;
        if (more) continue;
        std::chrono::seconds limit = peer()->command_timeout;
        const char* what = "a reply";
        switch (c.session.waiting()) {
            case smtp::ClientSession::Waiting::kGreeting:
                limit = peer()->greeting_timeout;
                what = "the greeting";
                break;
            case smtp::ClientSession::Waiting::kDataReady:
                limit = peer()->data_init_timeout;
                what = "the reply to DATA";
                break;
            case smtp::ClientSession::Waiting::kDataEnd:
                limit = peer()->data_end_timeout;
                what = "the reply to the end of data";
                break;
            case smtp::ClientSession::Waiting::kNothing:
                // Nothing to send and nothing expected: the session is stuck; never wait forever.
                fail("451 4.4.2 internal error: the session with " + c.label + " is stuck");
                co_return false;
            default:
                break;
        }
        auto got = co_await read(c, limit);
        if (got.timed_out) {
            fail(std::string("451 4.4.2 timeout waiting for ") + what + " from " + c.label);
            co_return false;
        }
        if (!got.ok) {
            fail(std::string("451 4.4.2 lost connection with ") + c.label + " while waiting for " +
                 what);
            co_return false;
        }
        c.session.receive(std::string_view(c.input.data(), got.size));
    }
    co_return false;
}

asio::awaitable<bool> SmtpTransport::send_body(Connection& c, const spool::Message& m,
                                               const spool::TextReader& text,
                                               const std::string& bdat) {
    bool unreadable = false;
    auto to_server = [&](std::string_view piece) -> asio::awaitable<bool> {
        co_return co_await write(c, piece, peer()->data_block_timeout);
    };
    if (co_await stream_text(text, bdat, to_server, unreadable)) co_return true;
    if (unreadable) {
        c.error = "451 4.3.0 cannot read the spool file of " + m.id;
        c.broken = true;
    }
    co_return false;
}

}  // namespace tern::delivery
