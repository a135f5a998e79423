// LmtpTransport: one connection per delivery job (LMTP servers are local and cheap to reach),
// the recipients in transactions of at most max_recipients_per_transaction, each recipient's
// outcome from its own reply after the data (RFC 2033 4.2).
#include "delivery/lmtp_transport.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "base/text.h"
#include "delivery/outbound_text.h"
#include "smtp/client_session.h"

namespace tern::delivery {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using queue::RecipientResult;

struct LmtpTransport::Session {
    Session(const asio::any_io_executor& ex, smtp::ClientOptions options)
        : socket(ex), timer(ex), client(std::move(options)) {}

    asio::generic::stream_protocol::socket socket;  // a Unix or a TCP socket
    asio::steady_timer timer;                       // the deadline of the operation under way
    smtp::ClientSession client;
    std::string label;  // "lmtp:unix:/run/dovecot/lmtp", for logs, queue show and notices
    bool broken = false;
    std::string error;  // why it broke, as a reply line in Tern's own words
    std::array<char, 8192> input{};

    void fail(std::string why) {
        broken = true;
        error = std::move(why);
        boost::system::error_code ignored;
        socket.close(ignored);
    }
    // Why the session cannot go on: the break, or the reply it failed on.
    std::string failure() const {
        if (broken) return error;
        if (client.failure().code != 0) return smtp::reply_line(client.failure());
        return "451 4.4.2 " + label + " closed the session";
    }
};

LmtpTransport::LmtpTransport(spool::Spool& spool, LmtpTransportOptions options, log::Logger& log)
    : spool_(spool), options_(std::move(options)), log_(log) {
    if (options_.max_recipients_per_transaction == 0) options_.max_recipients_per_transaction = 1;
}

std::optional<std::string> LmtpTransport::destination_of(std::string_view domain) const {
    auto it = options_.domains.find(ascii_lower(domain));
    if (it == options_.domains.end()) it = options_.domains.find("*");
    if (it == options_.domains.end()) return std::nullopt;
    return "lmtp:" + it->second.str();
}

asio::awaitable<bool> LmtpTransport::connect(Session& s, const net::LmtpTarget& target) {
    s.timer.expires_after(options_.timeout);
    if (!target.socket_path.empty()) {
        asio::local::stream_protocol::endpoint unix_ep(target.socket_path);
        auto r = co_await (s.socket.async_connect(asio::generic::stream_protocol::endpoint(unix_ep),
                                                  asio::as_tuple(asio::use_awaitable)) ||
                           s.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) {
            s.fail("451 4.4.1 connect to " + s.label + ": timed out");
            co_return false;
        }
        if (auto [ec] = std::get<0>(r); ec) {
            s.fail("451 4.4.1 connect to " + s.label + ": " + ec.message());
            co_return false;
        }
        co_return true;
    }
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    const std::string port = std::to_string(target.port);  // no temporaries in co_await (g++ 12)
    auto found =
        co_await (resolver.async_resolve(target.host, port, asio::as_tuple(asio::use_awaitable)) ||
                  s.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (found.index() == 1) {
        s.fail("451 4.4.3 looking up " + target.host + ": timed out");
        co_return false;
    }
    auto [rec, endpoints] = std::get<0>(found);
    if (rec || endpoints.empty()) {
        s.fail("451 4.4.3 looking up " + target.host + ": " +
               (rec ? rec.message() : std::string("no address")));
        co_return false;
    }
    std::string why;
    for (const auto& entry : endpoints) {
        boost::system::error_code ignored;
        s.socket.close(ignored);
        auto r = co_await (
            s.socket.async_connect(asio::generic::stream_protocol::endpoint(entry.endpoint()),
                                   asio::as_tuple(asio::use_awaitable)) ||
            s.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) {
            why = "timed out";
            break;
        }
        auto [ec] = std::get<0>(r);
        if (!ec) {
            // Replies are small and come one at a time: no Nagle delay on our commands.
            s.socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            co_return true;
        }
        why = ec.message();
    }
    s.fail("451 4.4.1 connect to " + s.label + ": " + why);
    co_return false;
}

asio::awaitable<bool> LmtpTransport::write(Session& s, std::string_view data) {
    s.timer.expires_after(options_.timeout);
    auto r = co_await (
        asio::async_write(s.socket, asio::buffer(data), asio::as_tuple(asio::use_awaitable)) ||
        s.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 0 && !std::get<0>(std::get<0>(r))) co_return true;
    s.fail("451 4.4.2 lost connection with " + s.label + " while sending");
    co_return false;
}

asio::awaitable<bool> LmtpTransport::drive(Session& s, const spool::TextReader* text) {
    while (!s.broken) {
        bool settled = false;
        bool ok = true;
        for (auto& a : s.client.take_actions()) {
            if (s.broken) break;
            switch (a.kind) {
                case smtp::ClientActionKind::kSend:
                    co_await write(s, a.data);
                    break;
                case smtp::ClientActionKind::kSendBody: {
                    bool unreadable = false;
                    auto to_server = [&](std::string_view piece) -> asio::awaitable<bool> {
                        co_return co_await write(s, piece);
                    };
                    if (!text) {
                        s.fail("451 4.3.0 internal error: no message text to send");
                    } else if (!co_await stream_text(*text, a.data, to_server, unreadable) &&
                               unreadable) {
                        s.fail("451 4.3.0 cannot read the spool file");
                    }
                    break;
                }
                case smtp::ClientActionKind::kStartTls:  // never asked for: no STARTTLS here
                    s.fail("451 4.7.0 internal error: STARTTLS over LMTP");
                    break;
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
        if (s.broken) co_return false;
        if (settled) co_return ok;
        if (s.client.waiting() == smtp::ClientSession::Waiting::kNothing) {
            s.fail("451 4.4.2 internal error: the session with " + s.label + " is stuck");
            co_return false;
        }
        s.timer.expires_after(options_.timeout);
        auto r = co_await (
            s.socket.async_read_some(asio::buffer(s.input), asio::as_tuple(asio::use_awaitable)) ||
            s.timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) {
            s.fail("451 4.4.2 timeout waiting for a reply from " + s.label);
            co_return false;
        }
        auto [ec, n] = std::get<0>(r);
        if (ec) {
            s.fail("451 4.4.2 lost connection with " + s.label + " while waiting for a reply");
            co_return false;
        }
        s.client.receive(std::string_view(s.input.data(), n));
    }
    co_return false;
}

asio::awaitable<std::vector<RecipientResult>> LmtpTransport::deliver(queue::DeliveryJob job) {
    const spool::Message& m = *job.message;
    std::vector<RecipientResult> results;
    auto defer = [&](std::size_t index, const std::string& reply, bool from_host,
                     const std::string& host) {
        results.push_back(deferred_result(index, reply, from_host, host));
    };
    std::optional<net::LmtpTarget> target;
    if (job.destination.starts_with("lmtp:"))
        target = net::LmtpTarget::parse(job.destination.substr(5));
    if (!target) {
        for (auto i : job.recipients)
            defer(i, "451 4.3.5 no LMTP server for destination " + job.destination, false, "");
        co_return results;
    }
    auto source = spool_.open_message(m.id);
    if (!source) {
        for (auto i : job.recipients)
            defer(i, "451 4.3.0 cannot open the spool file: " + source.error().message, false, "");
        co_return results;
    }
    spool::TextReader text(source->get(), m);
    if (text.failed()) {
        for (auto i : job.recipients)
            defer(i, "451 4.3.0 cannot read the header section of the spool file", false, "");
        co_return results;
    }
    smtp::ClientOptions o;
    o.helo_name = options_.lhlo_name;
    o.lmtp = true;
    auto ex = co_await asio::this_coro::executor;
    Session s(ex, std::move(o));
    s.label = "lmtp:" + target->str();
    std::vector<std::size_t> pending = job.recipients;
    auto give_up = [&] {
        // The session's failure is the server's reply when it refused, else Tern's account.
        bool said = !s.broken && s.client.failure().code != 0 && !s.client.failure().synthetic;
        for (auto i : pending)
            defer(i, s.failure(), said, s.label);
        pending.clear();
    };
    if (!co_await connect(s, *target) || !co_await drive(s, nullptr) || !s.client.ready()) {
        give_up();
        co_return results;
    }
    const auto& caps = s.client.capabilities();
    std::string detail = std::string("LMTP") + (caps.chunking ? " BDAT" : " DATA") +
                         (caps.pipelining ? " PIPELINING" : "");
    while (!pending.empty()) {
        std::size_t n = std::min(pending.size(), options_.max_recipients_per_transaction);
        std::vector<std::size_t> batch(pending.begin(), pending.begin() + n);
        smtp::OutboundMessage out;
        out.sender = m.sender;
        out.size = text.size();
        out.body = m.body;
        // RFC 6531 matters here only for the envelope: an LMTP server such as Dovecot 2.3 does
        // not offer SMTPUTF8 but stores UTF-8 header fields as they are, so the parameter is
        // sent (and required) only when an address of this transaction needs it.
        out.smtputf8 = m.smtputf8 && has_eight_bit(m.sender);
        // Only a server without 8BITMIME makes the octets matter (RFC 6152 section 3).
        if (m.body == smtp::BodyType::k8BitMime && !caps.eight_bit_mime)
            out.eight_bit = text_has_eight_bit(text);
        // REQUIRETLS ends here: an LMTP server is the final delivery (RFC 8689 section 5). So do
        // DSN requests: Tern itself reports the delivery (RET, ENVID, NOTIFY, ORCPT stay here).
        for (auto i : batch) {
            const auto& r = m.recipients[i];
            out.smtputf8 = out.smtputf8 || (m.smtputf8 && has_eight_bit(r.address));
            out.recipients.push_back(smtp::OutboundRecipient{r.address, {}, {}});
        }
        s.client.send_message(out);
        co_await drive(s, &text);
        const auto& replies = s.client.result();
        if (replies.size() != batch.size()) {
            give_up();
            break;
        }
        for (std::size_t k = 0; k < batch.size(); ++k) {
            // A recipient keeps its reply when it is final: a refusal, or its own reply after
            // the data. One accepted at RCPT whose data reply never came is tried again.
            const smtp::Reply& reply = replies[k];
            bool final = reply.code != 0 && (!reply.positive() || s.client.answered_after_data(k));
            if (!final) {
                defer(batch[k], s.failure(), false, s.label);
                continue;
            }
            auto r = result_from_reply(batch[k], reply, s.label);
            r.detail = detail;
            results.push_back(std::move(r));
        }
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
        if (!pending.empty() && !s.client.ready()) give_up();
    }
    if (!s.broken && s.client.ready()) {
        s.client.quit();
        for (auto& a : s.client.take_actions())
            if (a.kind == smtp::ClientActionKind::kSend) co_await write(s, a.data);
    }
    boost::system::error_code ignored;
    s.socket.close(ignored);
    co_return results;
}

}  // namespace tern::delivery
