// SmtpTransport: relaying one delivery job: the next hop, the servers in order, transactions of
// at most the allowed recipients, and the pool of idle connections kept for reuse.
#include "delivery/smtp_transport.h"

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
#include "base/unix_time.h"
#include "delivery/outbound_text.h"
#include "delivery/smtp_connection.h"
#include "dns/records.h"
#include "message/tls_required.h"
#include "smtp/client_session.h"
#include "smtp/data_encoder.h"

namespace tern::delivery {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using queue::Outcome;
using queue::RecipientResult;

namespace {

constexpr std::size_t kMaxHeaderScan = 1024 * 1024;  // octets searched for Received fields

std::string read_header_section(const spool::TextReader& reader) {
    std::string text;
    std::uint64_t want = std::min<std::uint64_t>(reader.size(), kMaxHeaderScan);
    text.resize(want);
    text.resize(reader.read_at(0, text.data(), want));
    auto end = text.find("\r\n\r\n");
    if (end == std::string::npos) end = text.find("\n\n");
    if (end != std::string::npos) text.resize(end + 2);
    return text;
}

// How many of `pending`, from the front, the next transaction carries: our own limit and the
// next hop's RCPTMAX and RCPTDOMAINMAX (RFC 9422), so that no recipient gets a needless 452.
std::size_t next_batch_size(const spool::Message& m, const std::vector<std::size_t>& pending,
                            std::size_t ours, const smtp::ServerLimits& limits) {
    std::vector<std::string> front;
    for (std::size_t k = 0; k < pending.size() && (ours == 0 || k < ours); ++k)
        front.push_back(m.recipients[pending[k]].address);
    return smtp::recipients_per_transaction(front, ours, limits);
}

RecipientResult deferred(std::size_t index, Failure why, std::string host = {}) {
    return deferred_result(index, std::move(why.reply), why.from_host, std::move(host));
}

// RFC 8689 4.2.1: no server of the next hop can take the REQUIRETLS message: it is returned.
RecipientResult refused(const Failure& why, std::string host) {
    RecipientResult r = deferred(0, why, std::move(host));
    r.outcome = Outcome::kFailed;
    return r;
}

}  // namespace

std::size_t count_received(std::string_view text) {
    std::size_t count = 0;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (line_start) {
            if (text[i] == '\r' || text[i] == '\n') break;  // the end of the header section
            if (text.size() - i >= 9 && ascii_lower(text.substr(i, 9)) == "received:") ++count;
        }
        line_start = text[i] == '\n';
    }
    return count;
}

SmtpTransport::SmtpTransport(spool::Spool& spool, dns::MxResolver& mx, SmtpTransportOptions options,
                             log::Logger& log)
    : spool_(spool),
      mx_(mx),
      options_(std::move(options)),
      log_(log),
      tls_(options_.tls),
      routing_(std::make_shared<const SmtpRouting>(options_.routing)),
      peer_(std::make_shared<const SmtpPeerSettings>(options_.peer)) {
    if (options_.metrics)
        tls_failures_ = &options_.metrics->counter(
            "tern_smtp_tls_failures_total",
            "Outbound TLS that failed, by reason: setup (no usable policy or context), "
            "handshake, timeout, certificate (not verified as the policy requires).",
            {"reason"});
}

void SmtpTransport::count_tls_failure(std::string_view reason) {
    if (tls_failures_) tls_failures_->counter({std::string(reason)}).add();
}

SmtpTransport::~SmtpTransport() = default;

void SmtpTransport::set_routing(SmtpRouting routing) {
    routing_.store(std::make_shared<const SmtpRouting>(std::move(routing)));
}

void SmtpTransport::set_peer_settings(SmtpPeerSettings settings) {
    peer_.store(std::make_shared<const SmtpPeerSettings>(std::move(settings)));
}

tls::Level SmtpTransport::level_for(std::string_view domain) const {
    auto routing = routing_.load();
    auto it = routing->tls_policies.find(ascii_lower(domain));
    return it != routing->tls_policies.end() ? it->second : routing->tls_level;
}

std::string SmtpTransport::destination_of(std::string_view domain) const {
    std::string d = ascii_lower(domain);
    auto routing = routing_.load();
    const net::NextHop* route = nullptr;
    if (auto it = routing->routes.find(d); it != routing->routes.end())
        route = &it->second;
    else if (routing->smarthost)
        route = &*routing->smarthost;
    // Domains sharing a route share its connections only if they ask for the same TLS: the
    // level is part of the key, so no connection made for one level carries another's mail.
    if (route) return "route:" + route->str() + "|" + std::string(tls::level_name(level_for(d)));
    return "mx:" + d;
}

net::NextHop SmtpTransport::next_hop_of(const std::string& destination) const {
    std::uint16_t port = peer()->port;
    if (destination.rfind("route:", 0) == 0) {
        auto bar = destination.rfind('|');
        if (auto hop = net::NextHop::parse(destination.substr(6, bar - 6), port)) return *hop;
    }
    net::NextHop hop;
    hop.host = destination.substr(destination.find(':') + 1);
    hop.port = port;
    hop.mx_lookup = true;
    return hop;
}

asio::awaitable<void> SmtpTransport::transact(Connection& c, const spool::Message& m,
                                              const spool::TextReader& text,
                                              const std::vector<std::size_t>& batch,
                                              const std::string& sender,
                                              std::vector<RecipientResult>& results) {
    smtp::OutboundMessage out;
    out.sender = sender;
    out.size = text.size();
    out.body = m.body;
    out.smtputf8 = m.smtputf8;
    out.ret = m.ret;
    out.envid = m.envid;
    // Only a server without 8BITMIME makes the octets matter (RFC 6152 section 3).
    if (m.body == smtp::BodyType::k8BitMime && !c.session.capabilities().eight_bit_mime)
        out.eight_bit = text_has_eight_bit(text);
    for (auto i : batch) {
        const auto& r = m.recipients[i];
        out.recipients.push_back(smtp::OutboundRecipient{r.address, r.notify, r.orcpt});
    }
    out.requiretls = m.requiretls;
    c.session.send_message(out);
    bool settled = co_await drive(c, &m, &text);
    const auto& replies = c.session.result();
    bool done = replies.size() == batch.size() &&
                std::all_of(replies.begin(), replies.end(),
                            [](const smtp::Reply& r) { return r.code != 0; });
    if (!done || (!settled && c.broken)) {
        Failure why = c.failure();
        for (auto i : batch)
            results.push_back(deferred(i, why, c.label));
        co_return;
    }
    const auto& caps = c.session.capabilities();
    // How the message went, for the log and queue show.
    std::string detail = std::string(caps.esmtp ? "ESMTP" : "SMTP") +
                         (caps.chunking ? " BDAT" : " DATA") +
                         (caps.pipelining ? " PIPELINING" : "") + ", " +
                         (c.tls ? c.tls_session.summary(c.need) : std::string("plain text")) +
                         (c.policy_waived ? ", TLS-Required: No" : "");
    for (std::size_t k = 0; k < batch.size(); ++k) {
        auto r = result_from_reply(batch[k], replies[k], c.label);
        r.notify_passed_on = caps.dsn && r.outcome == Outcome::kDelivered;
        r.detail = detail;
        results.push_back(std::move(r));
    }
    ++c.messages;
}

asio::awaitable<std::vector<RecipientResult>> SmtpTransport::deliver(queue::DeliveryJob job) {
    const spool::Message& m = *job.message;
    std::vector<RecipientResult> results;
    auto fail_all = [&](const std::vector<std::size_t>& which, const RecipientResult& why) {
        for (auto i : which) {
            RecipientResult r = why;
            r.index = i;
            results.push_back(std::move(r));
        }
    };
    auto source = spool_.open_message(m.id);
    if (!source) {
        fail_all(job.recipients, deferred(0, Failure{"451 4.3.0 cannot open the spool file: " +
                                                     source.error().message}));
        co_return results;
    }
    spool::TextReader text(source->get(), m);
    if (text.failed()) {
        fail_all(
            job.recipients,
            deferred(0, Failure{"451 4.3.0 cannot read the header section of the spool file"}));
        co_return results;
    }
    // RFC 5321 section 6.3: a message that has passed this many relays is looping.
    std::string header = read_header_section(text);
    auto hops = count_received(header);
    auto max_hops = peer()->max_hops;
    if (hops > max_hops) {
        RecipientResult loop;
        loop.outcome = Outcome::kFailed;
        loop.reply = "554 5.4.6 too many hops (" + std::to_string(hops) +
                     " Received header fields; the limit is " + std::to_string(max_hops) +
                     "): mail loop?";
        fail_all(job.recipients, loop);
        co_return results;
    }
    // RFC 8689 4.1: REQUIRETLS from the envelope; without it, a TLS-Required: No field waives
    // the recipient domain's TLS policy.
    Demand demand{m.requiretls, !m.requiretls && message::tls_required_no(header)};
    net::NextHop hop = next_hop_of(job.destination);
    std::vector<std::size_t> pending = job.recipients;
    // Each recipient's return path: forwarded ones get an SRS address (docs/srs.md), the others
    // of a VERP message their own VERP address (docs/feedback.md), so one transaction carries
    // only recipients with the same one (the rewritten ones go first).
    std::map<std::size_t, std::string> return_path;
    {
        std::int64_t now = unix_now();
        // "all" means the mail this server sends for its own users (the API's, submission's,
        // the local pickup's), never mail passing through it, and never a forwarded copy: their
        // reports belong to their senders.
        bool api = m.protocol == "http";
        bool verp = options_.verp && options_.verp->enabled() && !m.sender.empty() &&
                    (api || (options_.verp_all && (!m.auth_user.empty() || m.protocol == "local")));
        for (auto i : pending) {
            return_path[i] =
                options_.srs ? options_.srs->return_path(m, m.recipients[i], now) : m.sender;
            if (return_path[i] != m.sender) {
                log_.info("srs_forward", {{"id", m.id},
                                          {"to", m.recipients[i].address},
                                          {"from", m.sender},
                                          {"srs", return_path[i]}});
            } else if (verp && !m.recipients[i].forwarded) {
                // The compact form needs the sent index, which has the API's messages.
                if (auto a = options_.verp->encode(m.id, m.recipients[i].address, api))
                    return_path[i] = *std::move(a);
            }
        }
        std::stable_partition(pending.begin(), pending.end(),
                              [&](std::size_t i) { return return_path[i] != m.sender; });
    }
    auto here = &context_of(co_await asio::this_coro::executor);
    std::unique_ptr<Connection> c = take_idle(job.destination, here, demand);
    if (c) {
        // A cached connection may have been closed by the server meanwhile: RSET proves it.
        c->session.reset();
        if (!co_await drive(*c, nullptr, nullptr) || !c->session.ready()) c.reset();
    }
    std::optional<std::vector<Target>> targets;
    std::size_t next_target = 0;
    std::optional<std::size_t> target_of_c;  // the target `c` was opened to; none when reused
    Failure last_error;                      // the last failure that may pass
    std::string last_host;                   // the last server tried, for queue show and notices
    std::optional<Failure> refusal;  // the strongest REQUIRETLS refusal met (RFC 8689 4.2.1)
    std::string refusal_host;
    // The TLS level: the recipient domain's for an MX destination, else the one in the route's
    // key (all recipients of a route job share it). MTA-STS applies to MX delivery only: a
    // route is the operator's choice of server (RFC 8461 section 4).
    bool by_mx = job.destination.rfind("mx:", 0) == 0;
    std::string domain = by_mx ? hop.host : std::string();
    tls::Level level =
        by_mx ? level_for(domain)
              : tls::parse_level(job.destination.substr(job.destination.rfind('|') + 1))
                    .value_or(routing_.load()->tls_level);
    std::optional<tls::StsPolicy> sts;
    if (options_.mta_sts && tls_ && by_mx) sts = co_await options_.mta_sts->policy_for(domain);
    HopContext where{hop, domain, level, sts};
    while (!pending.empty()) {
        // RFC 9422 MAILMAX, or [relay] messages_per_connection (one job of a VERP message is a
        // transaction per recipient): the rest go over a new connection to the same server.
        bool mail_max = c && c->session.transaction_limit_reached();
        if (mail_max || (c && c->messages >= peer()->max_messages_per_connection)) {
            std::string reason =
                mail_max ? "MAILMAX " + std::to_string(c->session.capabilities().limits.mail_max)
                         : "messages_per_connection " +
                               std::to_string(peer()->max_messages_per_connection);
            log_.info("reconnect", {{"id", m.id}, {"host", c->label}, {"reason", reason}});
            co_await quit(std::move(c));
            if (target_of_c) next_target = *target_of_c;
        }
        if (!c) {
            if (!targets) {
                auto t = co_await targets_for(hop);
                if (!t) {
                    fail_all(pending, t.error());
                    break;
                }
                targets = std::move(*t);
                // RFC 8461 4.1: only exchangers the policy names may be used; a TLS-Required: No
                // message may use the others (RFC 8689 4.2.2).
                if (sts && sts->mode == tls::StsPolicy::Mode::kEnforce && !demand.policy_waived) {
                    std::erase_if(*targets, [&](const Target& x) {
                        return !tls::sts_mx_allowed(*sts, x.host);
                    });
                    if (targets->empty()) {
                        std::string why =
                            "no MX of " + domain + " is allowed by its MTA-STS policy";
                        fail_all(pending, demand.requiretls
                                              ? refused(Failure{"550 5.7.5 REQUIRETLS: " + why}, {})
                                              : deferred(0, Failure{"451 4.7.5 " + why}));
                        break;
                    }
                }
            }
            while (!c && next_target < targets->size()) {
                const auto& t = (*targets)[next_target++];
                last_host = t.label();
                auto opened = co_await open_for(t, where, demand, job.destination);
                if (!opened) {
                    const Failure& why = opened.error();
                    if (why.refusal == Refusal::kNone) {
                        last_error = why;
                    } else if (!refusal || why.refusal > refusal->refusal) {
                        refusal = why;
                        refusal_host = last_host;
                    }
                    log_.info("server_skipped",
                              {{"id", m.id}, {"host", last_host}, {"reason", why.reply}});
                    continue;
                }
                c = std::move(*opened);
                if (sts && sts->mode == tls::StsPolicy::Mode::kTesting &&
                    (!tls::sts_mx_allowed(*sts, t.host) || !c->tls_session.verified))
                    log_.warn("mta_sts_testing", {{"domain", domain},
                                                  {"host", t.host},
                                                  {"mx_allowed", tls::sts_mx_allowed(*sts, t.host)},
                                                  {"tls", c->tls_session.summary(c->need)}});
            }
            if (!c) {
                // Every server refused the REQUIRETLS message: it is returned (RFC 8689 4.2.1).
                // A server that failed otherwise may take it later: the message waits.
                if (refusal && last_error.reply.empty())
                    fail_all(pending, refused(*refusal, refusal_host));
                else
                    fail_all(pending, deferred(0,
                                               last_error.reply.empty()
                                                   ? Failure{"451 4.4.1 no server answered"}
                                                   : last_error,
                                               last_host));
                break;
            }
            target_of_c = next_target - 1;
        }
        std::vector<std::size_t> batch;
        auto take = next_batch_size(m, pending, peer()->max_recipients_per_transaction,
                                    c->session.capabilities().limits);
        const std::string& sender = return_path[pending.front()];
        for (std::size_t k = 1; k < take; ++k)
            if (return_path[pending[k]] != sender) take = k;
        batch.assign(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
        co_await transact(*c, m, text, batch, sender, results);
        if (c->broken || c->session.failed() || !c->session.ready()) {
            last_error = c->failure();
            c.reset();
        }
    }
    if (c) {
        // A connection made for a TLS-Required: No message may not meet the domain's policy.
        if (!c->policy_waived && c->messages < peer()->max_messages_per_connection &&
            !c->session.transaction_limit_reached())
            keep_idle(job.destination, std::move(c));
        else
            co_await quit(std::move(c));
    }
    co_return results;
}

asio::io_context* SmtpTransport::preferred_loop(const queue::DeliveryJob& job) {
    std::lock_guard lock(idle_mutex_);
    auto it = idle_.find(job.destination);
    return it == idle_.end() ? nullptr : it->second.loop;
}

std::unique_ptr<SmtpTransport::Connection> SmtpTransport::take_idle(const std::string& destination,
                                                                    asio::io_context* here,
                                                                    Demand demand) {
    std::lock_guard lock(idle_mutex_);
    auto [first, last] = idle_.equal_range(destination);
    for (auto it = first; it != last; ++it) {
        // A socket belongs to its loop: only the calling loop's connections may be used here.
        if (it->second.loop != here) continue;
        if (demand.requiretls && !it->second.connection->carries_requiretls()) continue;
        auto c = std::move(it->second.connection);
        idle_.erase(it);
        c->idle_timer.cancel();
        return c;
    }
    return nullptr;
}

void SmtpTransport::keep_idle(const std::string& destination, std::unique_ptr<Connection> c) {
    auto ex = c->lowest().get_executor();
    Connection* raw = c.get();
    {
        std::lock_guard lock(idle_mutex_);
        if (!closing_) {
            raw->idle_timer.expires_after(peer()->idle_timeout);
            idle_.emplace(destination, Idle{std::move(c), &context_of(ex)});
        }
    }
    if (c) {
        asio::co_spawn(ex, quit(std::move(c)), asio::detached);
        return;
    }
    asio::co_spawn(ex, close_when_idle(destination, raw), asio::detached);
}

asio::awaitable<void> SmtpTransport::close_when_idle(std::string destination, Connection* c) {
    // Cancelled when the connection is taken for a delivery or the pool is closed.
    auto [ec] = co_await c->idle_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    std::unique_ptr<Connection> expired;
    {
        std::lock_guard lock(idle_mutex_);
        auto [first, last] = idle_.equal_range(destination);
        for (auto it = first; it != last; ++it) {
            if (it->second.connection.get() != c) continue;
            expired = std::move(it->second.connection);
            idle_.erase(it);
            break;
        }
    }
    if (expired) co_await quit(std::move(expired));
}

asio::awaitable<void> SmtpTransport::quit(std::unique_ptr<Connection> c) {
    if (!c || c->broken) co_return;
    c->session.quit();
    for (auto& a : c->session.take_actions()) {
        if (a.kind == smtp::ClientActionKind::kSend)
            co_await write(*c, a.data, std::chrono::seconds(5));
    }
    // Wait briefly for the 221 so the server does not log a lost connection.
    co_await read(*c, std::chrono::seconds(2));
    boost::system::error_code ignored;
    c->lowest().shutdown(tcp::socket::shutdown_both, ignored);
    c->lowest().close(ignored);
}

void SmtpTransport::close_idle() {
    std::multimap<std::string, Idle> all;
    {
        std::lock_guard lock(idle_mutex_);
        closing_ = true;
        all.swap(idle_);
    }
    for (auto& [destination, idle] : all) {
        auto ex = idle.connection->lowest().get_executor();
        // The timer and socket may only be touched on their own loop.
        auto holder = std::make_shared<std::unique_ptr<Connection>>(std::move(idle.connection));
        asio::post(ex, [this, holder, ex] {
            (*holder)->idle_timer.cancel();
            asio::co_spawn(ex, quit(std::move(*holder)), asio::detached);
        });
    }
}

}  // namespace tern::delivery
