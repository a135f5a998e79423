// DaemonWebhooks: the [webhooks] endpoints' senders (docs/webhooks.md), with the TLS trust and
// resolver their HTTP client uses; started with the daemon, stopped at shutdown.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "base/error.h"
#include "config/config.h"
#include "events/event_log.h"
#include "log/logger.h"
#include "tls/client_context.h"
#include "webhooks/webhook_sender.h"

namespace tern::cli {

// The [webhooks] URLs parse and none is listed twice (they would share one cursor).
Result<void> check_webhooks(const config::Config& config);

class DaemonWebhooks {
  public:
    // None when [webhooks] urls is empty (or there is no event log to read).
    static Result<std::unique_ptr<DaemonWebhooks>> create(const config::Config& config,
                                                          boost::asio::io_context& home,
                                                          const events::EventLog* log,
                                                          log::Logger& logger);
    // Reads each endpoint's cursor and starts its sender (as the daemon's user).
    Result<void> start();
    void stop();

  private:
    std::unique_ptr<tls::ClientContext> tls_;
    std::vector<std::unique_ptr<webhooks::WebhookSender>> senders_;
};

}  // namespace tern::cli
