// InboundConnection: the read / process / write loop of one SMTP session, its deadlines and
// watchdog, and the durable commit of each message (group sync before the 250 reply). TLS and
// SASL are in inbound_security.cpp, the pipeline's hooks in inbound_stages.cpp.
#include "server/inbound_connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "auth/crypto.h"
#include "base/unix_time.h"
#include "message/received.h"
#include "smtp/reply_parser.h"
#include "spool/async_sync.h"

namespace tern::server {
namespace asio = boost::asio;
using smtp::ActionKind;
using smtp::ReplyName;

namespace {

// With more than twice the spool's minimum free space and this much besides, the last answer
// of the free space (at most Spool::kFreeSpaceTtl old) is good enough for the next MAIL.
constexpr std::uint64_t kFreeMargin = 64ull * 1024 * 1024;

// Octets asked of the socket by one read.
constexpr std::size_t kReadSize = 16384;

bool is_loopback(const std::string& ip) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(ip, ec);
    return !ec && a.is_loopback();
}

std::string client_address(const asio::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return "unknown";
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
    return addr.to_string();
}

}  // namespace

InboundConnection::InboundConnection(ServerContext& context, asio::ip::tcp::socket socket,
                                     net::ConnectionLimits::Slot slot, ListenerKind kind)
    : ctx_(context),
      config_(context.settings.load()),
      kind_(kind),
      socket_(std::move(socket)),
      slot_(std::move(slot)),
      timer_(socket_.get_executor()),
      deadline_(std::chrono::steady_clock::now() + config_->command_timeout),
      client_ip_(client_address(socket_)),
      loopback_(is_loopback(client_ip_)),
      session_(session_options()) {
    pipeline_ =
        kind == ListenerKind::kMx ? config_->mx_pipeline.get() : config_->submission_pipeline.get();
    if (pipeline_ && pipeline_->empty()) pipeline_ = nullptr;
}

InboundConnection::~InboundConnection() {
    run_.reset();  // it refers to the writer's envelope
    if (writer_) ctx_.injector.discard(*writer_);
}

smtp::SessionOptions InboundConnection::session_options() const {
    smtp::SessionOptions o;
    o.hostname = config_->hostname;
    o.limits = config_->limits;
    o.limits.max_hops = config_->max_hops;
    bool mx = kind_ == ListenerKind::kMx;
    o.tls_active = kind_ == ListenerKind::kSubmissions;
    o.starttls = ctx_.tls && !o.tls_active && (!mx || config_->smtp_starttls);
    if (ctx_.verifier && (!mx || config_->smtp_auth)) o.auth_mechanisms = auth::mechanism_names();
    // RFC 4954 4 / RFC 8314: passwords only over TLS, unless loopback is exempted.
    o.auth_needs_tls = !(config_->auth_plaintext_loopback && loopback_);
    o.auth_required = !mx;  // RFC 6409 4.3: submission needs authentication
    const pipeline::Pipeline* stages =
        mx ? config_->mx_pipeline.get() : config_->submission_pipeline.get();
    o.check_helo = stages && stages->has(pipeline::kOnHelo);
    return o;
}

void InboundConnection::set_deadline(std::chrono::seconds timeout) {
    set_deadline_at(std::chrono::steady_clock::now() + timeout);
}

// The deadline of the next read. A command line must arrive whole within command_timeout of
// the end of the line before it, however slowly its octets trickle in (a client sending one
// byte at a time is not kept alive by each byte). Message text gets data_timeout from the
// start of DATA or of a BDAT chunk, extended by credit_read() as octets arrive.
void InboundConnection::arm_read_deadline() {
    auto now = std::chrono::steady_clock::now();
    bool text = session_.reading_message();
    if (text != reading_text_) {
        reading_text_ = text;
        read_deadline_ = now + (text ? config_->data_timeout : config_->command_timeout);
    } else if (!text && !session_.mid_line()) {
        read_deadline_ = now + config_->command_timeout;
    }
    set_deadline_at(read_deadline_);
}

// Octets of message text just read buy N / min_data_rate seconds more, never more than
// data_timeout from now (Postfix's smtpd_min_data_rate); a rate of 0 renews data_timeout.
void InboundConnection::credit_read(std::size_t octets) {
    if (!reading_text_) return;
    auto limit = std::chrono::steady_clock::now() + config_->data_timeout;
    std::uint64_t rate = config_->min_data_rate;
    if (rate == 0) {
        read_deadline_ = limit;
        return;
    }
    auto credit = std::chrono::microseconds(octets * 1'000'000 / rate);
    read_deadline_ = std::min<std::chrono::steady_clock::time_point>(
        limit,
        read_deadline_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(credit));
}

void InboundConnection::set_deadline_at(std::chrono::steady_clock::time_point deadline) {
    deadline_ = deadline;
    // The watchdog sleeps until the deadline it last saw; a sooner one (data_timeout shorter
    // than command_timeout) must wake it to re-arm, or the shorter timeout never applies.
    if (deadline_ < timer_.expiry()) timer_.cancel();
}

void InboundConnection::request_stop() {
    stop_requested_ = true;
    boost::system::error_code ec;
    lowest().cancel(ec);
}

// The watchdog is a plain timer handler, not a coroutine: it is armed for the whole life of
// every connection, and a coroutine would keep a frame (and an Asio thread) per connection.
void InboundConnection::arm_watchdog() {
    timer_.expires_at(deadline_);
    timer_.async_wait(
        [self = shared_from_this()](boost::system::error_code) { self->on_watchdog(); });
}

void InboundConnection::on_watchdog() {
    if (closed_) return;
    bool expired = deadline_ <= std::chrono::steady_clock::now();
    boost::system::error_code ec;
    if (grace_) {
        grace_ = false;
        if (expired) lowest().close(ec);
    } else if (expired) {
        timed_out_ = true;
        lowest().cancel(ec);
        // The session now writes its 421; give that write one more period, then give up.
        set_deadline(config_->command_timeout);
        grace_ = true;
    }
    arm_watchdog();
}

asio::awaitable<void> InboundConnection::run() {
    start();
    co_await greet();
    // The read buffer exists only while bytes are arriving: a plain-text session that waits
    // for its next command waits for readability without one, so an idle connection does not
    // hold kReadSize octets (issue 14). Under TLS the stream reads into it, so it stays.
    // This frame lives as long as the connection: keep its locals few and small.
    std::unique_ptr<char[]> buffer;
    while (!session_.closed() && !closed_) {
        if (stop_requested_) {
            session_.shutdown();
            co_await perform();
            break;
        }
        arm_read_deadline();
        boost::system::error_code ec;
        std::size_t n = 0;
        if (!buffer) buffer = std::make_unique_for_overwrite<char[]>(kReadSize);
        if (tls_) {
            std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(buffer.get(), kReadSize),
                                                             asio::as_tuple(asio::use_awaitable));
        } else {
            // The socket is non-blocking: what has arrived is read at once (as Asio's own
            // speculative read would), and only an empty socket is waited on.
            while (true) {
                n = socket_.read_some(asio::buffer(buffer.get(), kReadSize), ec);
                if (ec != asio::error::would_block) break;
                buffer.reset();
                std::tie(ec) = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read,
                                                           asio::as_tuple(asio::use_awaitable));
                if (ec) break;
                buffer = std::make_unique_for_overwrite<char[]>(kReadSize);
            }
        }
        if (ec) {
            if (timed_out_) {
                timed_out_ = false;
                session_.timeout();
            } else if (stop_requested_) {
                session_.shutdown();
            } else {
                break;  // the client closed or reset the connection
            }
            co_await perform();
            break;
        }
        credit_read(n);
        session_.receive(std::string_view(buffer.get(), n));
        co_await perform();
    }
    buffer.reset();
    co_await finish();
}

void InboundConnection::start() {
    auto executor = socket_.get_executor();
    registry_key_ = ctx_.sessions.add([weak = weak_from_this(), executor] {
        asio::post(executor, [weak] {
            if (auto conn = weak.lock()) conn->request_stop();
        });
    });
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);  // for run()'s reads without a buffer waiting
    arm_watchdog();
    ctx_.log.info("connect", {{"client", client_ip_}, {"listener", listener_name(kind_)}});
    if (ctx_.metrics) {
        ctx_.metrics->connections.counter({std::string(listener_name(kind_))}).add();
        ctx_.metrics->sessions.gauge({std::string(listener_name(kind_))}).add(1);
    }
}

asio::awaitable<void> InboundConnection::greet() {
    // RFC 8314 3.3: on the submissions port TLS comes first; no SMTP byte before it.
    bool ready = kind_ != ListenerKind::kSubmissions || (ctx_.tls && co_await handshake());
    if (!ready) {
        closed_ = true;
        co_return;
    }
    // A stage may refuse the client before the greeting (a blocklisted address, say).
    pipeline::Verdict verdict;
    if (pipeline_ && pipeline_->has(pipeline::kOnConnect))
        verdict = co_await pipeline_->connect(session_info());
    bool refused = verdict.kind == pipeline::Verdict::Kind::kReject ||
                   verdict.kind == pipeline::Verdict::Kind::kDefer;
    if (!refused && kind_ == ListenerKind::kMx && ctx_.pregreet &&
        ctx_.pregreet->applies(client_ip_, std::chrono::steady_clock::now()) &&
        !co_await pregreet_test()) {
        closed_ = true;
        co_return;
    }
    if (refused) {
        session_.refuse(pipeline_reply(verdict, {}, "connect"));
    } else {
        keep_scores(verdict, "connect");
        session_.start();
    }
    co_await perform();
}

asio::awaitable<bool> InboundConnection::pregreet_test() {
    const auto& options = ctx_.pregreet->options();
    out_ = "220-" + config_->hostname + " ESMTP\r\n";
    if (!co_await flush()) co_return false;
    auto start = std::chrono::steady_clock::now();
    asio::steady_timer wait(socket_.get_executor(), options.wait);
    wait.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->socket_.cancel(ec);
    });
    auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read,
                                            asio::as_tuple(asio::use_awaitable));
    wait.cancel();
    if (ec) {
        // The wait ended: the client waited for the greeting (or the daemon is stopping,
        // which the read loop handles).
        if (!stop_requested_) ctx_.pregreet->passed(client_ip_, std::chrono::steady_clock::now());
        co_return true;
    }
    char early[64];
    std::size_t n = socket_.receive(asio::buffer(early), asio::socket_base::message_peek, ec);
    if (ec || n == 0) co_return false;  // the client left
    auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    ctx_.log.info("pregreet", {{"client", client_ip_},
                               {"octets", n},
                               {"after_ms", after.count()},
                               {"text", std::string_view(early, n)},
                               {"action", options.drop ? "drop" : "log"}});
    if (!options.drop) co_return true;
    out_ = smtp::reply(smtp::ReplyName::kPregreet).render();
    co_await flush();
    co_return false;
}

asio::awaitable<void> InboundConnection::finish() {
    // A clean end: the session closed (QUIT, 421) with its last reply written, or the client
    // went away. Not after a failed or timed-out write, nor when the daemon is stopping.
    bool clean_end = !write_failed_ && !stop_requested_;
    closed_ = true;
    timer_.cancel();
    if (tls_ && !tls_summary_.empty() && clean_end) {
        // RFC 8446 6.1: a close_notify before the TCP close, so the client can tell the end of
        // the session from a truncation. Only ours is sent: waiting for the client's would let
        // a silent client hold the connection, so OpenSSL is told it has arrived already, and
        // a client that does not read gets tls_close_timeout to take it.
        SSL* ssl = tls_->native_handle();
        SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
        asio::steady_timer guard(timer_.get_executor(), config_->tls_close_timeout);
        guard.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            boost::system::error_code ignored;
            if (!ec) self->lowest().close(ignored);
        });
        co_await tls_->async_shutdown(asio::as_tuple(asio::use_awaitable));
        guard.cancel();
    }
    boost::system::error_code ignored;
    lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
    run_.reset();
    if (writer_) {
        ctx_.injector.discard(*writer_);
        writer_.reset();
    }
    ctx_.sessions.remove(registry_key_);
    ctx_.log.info("disconnect", {{"client", client_ip_}, {"messages", messages_}});
    if (ctx_.metrics) ctx_.metrics->sessions.gauge({std::string(listener_name(kind_))}).add(-1);
}

asio::awaitable<bool> InboundConnection::flush() {
    if (out_.empty() || closed_) co_return !closed_;
    set_deadline(config_->command_timeout);
    boost::system::error_code ec;
    std::size_t n = 0;
    if (tls_)
        std::tie(ec, n) = co_await asio::async_write(*tls_, asio::buffer(out_),
                                                     asio::as_tuple(asio::use_awaitable));
    else
        std::tie(ec, n) = co_await asio::async_write(socket_, asio::buffer(out_),
                                                     asio::as_tuple(asio::use_awaitable));
    std::string().swap(out_);  // not kept for the next reply: an idle session holds none
    if (ec) closed_ = write_failed_ = true;
    co_return !ec;
}

asio::awaitable<void> InboundConnection::perform() {
    while (!closed_) {
        auto actions = session_.take_actions();
        if (actions.empty()) break;
        for (auto& a : actions) {
            switch (a.kind) {
                case ActionKind::kSend:
                    out_ += a.data;
                    break;
                case ActionKind::kCheckHelo:
                    session_.helo_checked(co_await check_helo());
                    break;
                case ActionKind::kCheckSender: {
                    // Refuse early when the spool's disk is nearly full, before any data flows.
                    // A recent answer far above the minimum is reused (Spool::free_space).
                    std::uint64_t min_free = config_->spool_min_free;
                    if (min_free > 0 &&
                        ctx_.spool.free_space(2 * min_free + kFreeMargin) < min_free) {
                        ctx_.log.warn("spool_full",
                                      {{"client", client_ip_}, {"free", ctx_.spool.free_space()}});
                        session_.sender_checked(smtp::reply(ReplyName::kNoSpace));
                        break;
                    }
                    session_.sender_checked(co_await check_sender());
                    break;
                }
                case ActionKind::kCheckRecipient:
                    session_.recipient_checked(co_await check_recipient());
                    break;
                case ActionKind::kBeginMessage:
                    begin_message();
                    break;
                case ActionKind::kBodyData:
                    if (writer_) writer_->append(a.data);
                    if (run_) run_->text(a.data);
                    break;
                case ActionKind::kCommitMessage: {
                    if (!co_await flush()) co_return;
                    auto reply = co_await commit_message();
                    session_.message_committed(std::move(reply));
                    break;
                }
                case ActionKind::kAbortMessage:
                    run_.reset();
                    if (writer_) {
                        ctx_.log.info("message_refused",
                                      {{"id", writer_->id()}, {"client", client_ip_}});
                        count_message("refused");
                        ctx_.injector.discard(*writer_);
                        writer_.reset();
                    }
                    writer_error_.reset();
                    break;
                case ActionKind::kStartTls: {
                    // The 220 goes out in plain text first; input already read was dropped by
                    // the session (RFC 3207 4.2, the CVE-2011-0411 class).
                    if (!co_await flush()) co_return;
                    bool ok = ctx_.tls && co_await handshake();
                    session_.tls_started(ok);
                    break;
                }
                case ActionKind::kAuthStart:
                    mechanism_.reset();
                    co_await auth_step(std::move(a.data));
                    break;
                case ActionKind::kAuthStep:
                    co_await auth_step(std::move(a.data));
                    break;
                case ActionKind::kClose:
                    co_await flush();
                    closed_ = true;
                    break;
            }
        }
    }
    if (!closed_) co_await flush();
}

void InboundConnection::begin_message() {
    const auto& env = session_.envelope();
    spool::Message m;
    m.arrival = unix_now();
    m.sender = env.sender.mailbox ? env.sender.mailbox->str() : "";
    m.body = env.mail.body;
    m.smtputf8 = env.mail.smtputf8;
    m.requiretls = env.mail.requiretls;  // RFC 8689 4.1: the message is tagged
    m.ret = env.mail.ret;
    m.envid = env.mail.envid;
    m.client_ip = client_ip_;
    m.helo = session_.helo_name();
    m.auth_user = session_.authenticated_user();
    m.protocol = session_.protocol();
    for (const auto& rcpt : env.recipients)
        ctx_.policy.expand(rcpt, m.recipients);
    if (m.recipients.empty()) {
        writer_error_ = Error{ErrorCode::kPermanent, "no deliverable recipients"};
        return;
    }
    auto writer = ctx_.injector.begin(std::move(m));
    if (!writer) {
        ctx_.log.error("spool_create", {{"client", client_ip_}, {"error", writer.error().message}});
        writer_error_ = writer.error();
        return;
    }
    writer_ = std::move(*writer);
    message::ReceivedInfo info;
    info.helo = session_.helo_name();
    info.client_ip = client_ip_;
    info.by_host = config_->hostname;
    info.protocol = session_.protocol();
    info.tls = tls_summary_;
    info.queue_id = writer_->id();
    if (env.recipients.size() == 1) info.for_recipient = env.recipients.front().path.str();
    info.when = std::chrono::system_clock::now();
    std::string received = message::received_header(info);
    writer_->append(received);
    // The stages see the text as it is stored, our Received field first.
    if (pipeline_) {
        run_ = pipeline_->start_message(session_info(), writer_->message());
        if (run_) run_->text(received);
    }
}

asio::awaitable<smtp::Reply> InboundConnection::commit_message() {
    const auto& env = session_.envelope();
    if (!writer_) {
        run_.reset();
        Error e = writer_error_.value_or(Error{ErrorCode::kIo, "no spool file"});
        writer_error_.reset();
        co_return smtp::reply_for(e);
    }
    std::string id = writer_->id();
    // The stages' end hooks decide, and their header edits go into the spool with the message.
    bool hold = false;
    bool envelope_changed = false;
    if (run_) {
        auto outcome = co_await run_->finish();
        run_.reset();
        using Kind = pipeline::Verdict::Kind;
        const auto& v = outcome.verdict;
        if (v.kind == Kind::kReject || v.kind == Kind::kDefer || v.kind == Kind::kDiscard) {
            ctx_.injector.discard(*writer_);
            writer_.reset();
            if (v.kind == Kind::kDiscard) {
                // Accepted as far as the client can tell, and dropped (as Postfix's DISCARD).
                ctx_.log.info(
                    "discarded",
                    {{"id", id}, {"client", client_ip_}, {"stage", v.stage}, {"reason", v.reason}});
                count_message("discarded");
                co_return smtp::reply(ReplyName::kQueued, "Ok: queued as " + id);
            }
            count_message("refused");
            if (ctx_.metrics) ctx_.metrics->rejected(listener_name(kind_), v.stage, v.reply);
            ctx_.log.info("message_refused", {{"id", id},
                                              {"client", client_ip_},
                                              {"stage", v.stage},
                                              {"reason", v.reason},
                                              {"reply", smtp::reply_line(v.reply)}});
            co_return v.reply;
        }
        hold = v.kind == Kind::kHold;
        if (hold)
            ctx_.log.info(
                "held",
                {{"id", id}, {"client", client_ip_}, {"stage", v.stage}, {"reason", v.reason}});
        writer_->set_edits(std::move(outcome.edits), outcome.edits_delta + outcome.body_delta);
        if (outcome.body) writer_->set_body(std::move(*outcome.body));
        if (!outcome.envelope_edits.empty()) {
            spool::Message changed = writer_->message();
            co_await apply_envelope_edits(outcome.envelope_edits, changed);
            if (changed.recipients.empty()) {
                // Every recipient deleted: accepted and dropped, as Postfix does (docs/filters.md).
                ctx_.injector.discard(*writer_);
                writer_.reset();
                ctx_.log.info("discarded", {{"id", id},
                                            {"client", client_ip_},
                                            {"stage", outcome.envelope_edits.back().stage},
                                            {"reason", "every recipient deleted"}});
                count_message("discarded");
                co_return smtp::reply(ReplyName::kQueued, "Ok: queued as " + id);
            }
            writer_->set_envelope(std::move(changed));
            envelope_changed = true;
        }
    }
    // finish, group sync, commit mark, hand-off to the queue: then, and only then, the 250.
    auto message = co_await ctx_.injector.commit(*writer_, hold);
    writer_.reset();
    if (!message) {
        ctx_.log.error("spool_write",
                       {{"id", id}, {"client", client_ip_}, {"error", message.error().message}});
        co_return smtp::reply_for(message.error());
    }
    ++messages_;
    std::string to;
    std::string from = env.sender.str();
    if (envelope_changed) {
        // A stage changed the envelope: the log says what was stored.
        from = "<" + message->sender + ">";
        for (const auto& r : message->recipients)
            to += (to.empty() ? "" : ",") + r.address;
    } else {
        for (const auto& r : env.recipients)
            to += (to.empty() ? "" : ",") + r.path.mailbox.str();
    }
    count_message(hold ? "held" : "queued");
    ctx_.log.info("message", {{"id", id},
                              {"client", client_ip_},
                              {"helo", session_.helo_name()},
                              {"from", from},
                              {"to", to},
                              {"size", message->size()},
                              {"result", "queued"}});
    co_return smtp::reply(ReplyName::kQueued, "Ok: queued as " + id);
}

}  // namespace tern::server
