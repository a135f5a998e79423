// InboundConnection, security: the TLS handshake (STARTTLS and implicit TLS), the SASL exchange
// with the login throttle. (The sender-ownership rule of submission is policy/access_stage.)
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/crypto.h"
#include "server/inbound_connection.h"

namespace tern::server {
namespace asio = boost::asio;
using smtp::ReplyName;

asio::awaitable<bool> InboundConnection::handshake() {
    tls_context_ = ctx_.tls->context();
    tls_ = std::make_unique<TlsStream>(std::move(socket_), *tls_context_);
    set_deadline(config_->command_timeout);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server,
                                               asio::as_tuple(asio::use_awaitable));
    if (ec) {
        ctx_.log.info("tls_failed", {{"client", client_ip_}, {"error", ec.message()}});
        if (ctx_.metrics)
            ctx_.metrics->tls_failures.counter({std::string(listener_name(kind_))}).add();
        co_return false;
    }
    std::string version = tls::protocol_of(tls_->native_handle());
    std::string cipher = tls::cipher_of(tls_->native_handle());
    tls_summary_ = "version=" + version + " cipher=" + cipher;
    tls_version_ = version;
    ctx_.log.info("tls", {{"client", client_ip_}, {"version", version}, {"cipher", cipher}});
    co_return true;
}

asio::awaitable<void> InboundConnection::pause(std::chrono::milliseconds delay) {
    asio::steady_timer t(timer_.get_executor(), delay);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> InboundConnection::auth_step(std::string data) {
    using auth::Step;
    using Clock = auth::LoginThrottle::Clock;
    bool first = !mechanism_;
    if (first) {
        // A client that has failed recently waits before its next attempt is even looked at.
        if (ctx_.throttle) {
            auto wait = ctx_.throttle->wait(client_ip_, "", Clock::now());
            if (wait.count() > 0) co_await pause(wait);
        }
        mechanism_ = auth::make_mechanism(session_.auth_mechanism(), ctx_.mechanism_options);
        if (!mechanism_) {
            session_.auth_failed(smtp::reply(ReplyName::kAuthMechanism));
            co_return;
        }
    }
    // "=" stands for an empty response, "" (first step only) for no initial response.
    std::optional<std::string> decoded;
    if (data == "=")
        decoded = std::string();
    else if (!data.empty())
        decoded = auth::base64_decode(data);
    if (!data.empty() && !decoded) {
        mechanism_.reset();
        session_.auth_failed(smtp::reply(ReplyName::kAuthBadEncoding));
        co_return;
    }
    Step step = first ? mechanism_->start(decoded ? std::optional<std::string_view>(*decoded)
                                                  : std::nullopt)
                      : mechanism_->step(decoded.value_or(""));
    std::optional<std::uint64_t> password_tag;  // tells a repeated wrong password from a guess
    while (auto* need = std::get_if<auth::NeedVerify>(&step)) {
        if (ctx_.throttle && need->what == auth::NeedVerify::What::kPassword)
            password_tag = ctx_.throttle->tag(need->password);
        auto answer = co_await ctx_.verifier->async_answer(std::move(*need), asio::use_awaitable);
        step = mechanism_->resume(answer);
    }
    if (auto* c = std::get_if<auth::Challenge>(&step)) {
        session_.auth_challenge(auth::base64_encode(c->data));
        co_return;
    }
    std::string mechanism(mechanism_->name());
    std::string account = mechanism_->claimed_user();
    mechanism_.reset();
    if (auto* ok = std::get_if<auth::Success>(&step)) {
        if (ctx_.throttle) ctx_.throttle->record_success(client_ip_, ok->user);
        ctx_.log.info("auth", {{"client", client_ip_},
                               {"user", ok->user},
                               {"mechanism", mechanism},
                               {"result", "ok"}});
        session_.auth_succeeded(ok->user);
        co_return;
    }
    co_await auth_failed(std::get<auth::Failure>(step), mechanism, account, password_tag);
}

asio::awaitable<void> InboundConnection::auth_failed(const auth::Failure& failure,
                                                     const std::string& mechanism,
                                                     const std::string& account,
                                                     std::optional<std::uint64_t> password_tag) {
    std::chrono::milliseconds delay{0};
    bool repeat = false;
    if (failure.kind == auth::FailureKind::kBadCredentials && ctx_.throttle) {
        auto now = auth::LoginThrottle::Clock::now();
        repeat = !ctx_.throttle->record_failure(client_ip_, account, password_tag, now);
        // Past the free failures, the failure is answered only after the throttle's delay:
        // guessing gets slower and slower for this address, this account and the two together
        // (RFC 4954 section 9 leaves how to us).
        delay = ctx_.throttle->wait(client_ip_, account, now);
        if (delay.count() > 0) co_await pause(delay);
    }
    ctx_.log.info("auth", {{"client", client_ip_},
                           {"user", account},
                           {"mechanism", mechanism},
                           {"result", "failed"},
                           {"why", failure.why},
                           {"repeat", repeat},
                           {"delay_ms", delay.count()}});
    if (ctx_.metrics)
        ctx_.metrics->auth_failures.counter({std::string(listener_name(kind_)), mechanism}).add();
    session_.auth_failed(auth::failure_reply(failure.kind));
}

}  // namespace tern::server
