// DaemonWebhooks: one WebhookSender per URL of [webhooks], sharing one TLS client context.
#include "cli/daemon_webhooks.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "cli/component_options.h"

namespace tern::cli {
namespace asio = boost::asio;

namespace {

// Host names as the machine resolves them (getaddrinfo: /etc/hosts, the search list): webhook
// endpoints are often names of a local network, not of the DNS the relay asks.
http::ResolveHost system_resolver() {
    return [](std::string host) -> asio::awaitable<Result<std::vector<asio::ip::address>>> {
        auto ex = co_await asio::this_coro::executor;
        asio::ip::tcp::resolver resolver(ex);
        auto [ec, results] =
            co_await resolver.async_resolve(host, "", asio::as_tuple(asio::use_awaitable));
        if (ec) co_return fail(ErrorCode::kTemporary, "resolving " + host + ": " + ec.message());
        std::vector<asio::ip::address> out;
        for (const auto& r : results)
            out.push_back(r.endpoint().address());
        co_return out;
    };
}

}  // namespace

Result<void> check_webhooks(const config::Config& config) {
    std::set<std::string> seen;
    for (const auto& url : config.webhook_urls) {
        if (!http::Url::parse(url))
            return fail(ErrorCode::kInvalid, "webhooks.urls: '" + url + "' is not a URL");
        if (!seen.insert(url).second)
            return fail(ErrorCode::kInvalid, "webhooks.urls: '" + url + "' is listed twice");
    }
    return {};
}

Result<std::unique_ptr<DaemonWebhooks>> DaemonWebhooks::create(const config::Config& config,
                                                               boost::asio::io_context& home,
                                                               const events::EventLog* log,
                                                               log::Logger& logger) {
    std::unique_ptr<DaemonWebhooks> made(new DaemonWebhooks());
    if (config.webhook_urls.empty() || !log) return made;
    if (auto r = check_webhooks(config); !r) return std::unexpected(r.error());
    auto tls = tls::ClientContext::create(client_tls_options(config));
    if (!tls) return fail(ErrorCode::kInvalid, "webhooks: TLS: " + tls.error().message);
    made->tls_ = std::move(*tls);
    for (const auto& url : config.webhook_urls) {
        webhooks::WebhookOptions o;
        o.url = url;
        o.secret = config.webhook_secret;
        o.state_dir = config.data_dir + "/webhooks";
        o.types = config.webhook_types;
        o.batch_size = config.webhook_batch_size;
        o.min_retry = config.webhook_min_retry;
        o.max_retry = config.webhook_max_retry;
        o.http.tls = made->tls_.get();
        o.http.resolve = system_resolver();
        o.http.timeout = config.webhook_timeout;
        // Only the status counts; an answer's body larger than this is a failure (the client
        // reads it whole).
        o.http.max_body = 4 * 1024 * 1024;
        o.http.user_agent = "Tern webhooks";
        made->senders_.push_back(
            std::make_unique<webhooks::WebhookSender>(home, *log, std::move(o), logger));
    }
    return made;
}

Result<void> DaemonWebhooks::start() {
    for (auto& s : senders_)
        if (auto r = s->start(); !r) return r;
    return {};
}

void DaemonWebhooks::stop() {
    for (auto& s : senders_)
        s->stop();
}

}  // namespace tern::cli
