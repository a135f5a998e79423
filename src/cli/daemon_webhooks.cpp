// DaemonWebhooks: one WebhookSender per URL of [webhooks], sharing one TLS client context.
#include "cli/daemon_webhooks.h"

#include "cli/component_options.h"
#include "cli/daemon_tls.h"

namespace tern::cli {

Result<std::unique_ptr<DaemonWebhooks>> DaemonWebhooks::create(const config::Config& config,
                                                               boost::asio::io_context& home,
                                                               const events::EventLog* log,
                                                               dns::MxResolver& mx,
                                                               log::Logger& logger) {
    std::unique_ptr<DaemonWebhooks> made(new DaemonWebhooks());
    if (config.webhook_urls.empty() || !log) return made;
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
        o.http.resolve = resolve_with(mx);
        o.http.timeout = config.webhook_timeout;
        o.http.max_body = 64 * 1024;
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
