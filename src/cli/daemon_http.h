// The daemon's HTTP listener (docs/http.md) and what is mounted on it: /metrics and /health, the
// sending API (docs/api.md) when [api] is on, the web dashboard (docs/dashboard.md) when
// [dashboard] admins names someone, and the answers to ACME http-01 challenges
// (/.well-known/acme-challenge/) when [acme] is on.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "acme/acme_client.h"
#include "admin/dashboard.h"
#include "admin/metrics_endpoint.h"
#include "api/events_api.h"
#include "api/message_api.h"
#include "api/suppressions_api.h"
#include "api/unsubscribe_page.h"
#include "auth/api_keys.h"
#include "auth/throttle.h"
#include "auth/verifier.h"
#include "base/error.h"
#include "config/config.h"
#include "dns/resolver.h"
#include "http/server.h"
#include "log/logger.h"
#include "mailauth/dkim_signer.h"
#include "metrics/metrics.h"
#include "net/event_loops.h"
#include "queue/queue_manager.h"
#include "tls/server_context.h"

namespace tern::cli {

// What the routes need from the rest of the daemon; all outlive the DaemonHttp.
struct DaemonHttpParts {
    metrics::Registry& registry;
    queue::QueueManager& queue;
    net::EventLoops& loops;
    log::Logger& log;
    tls::ServerContext* tls;  // the server certificates
    auth::Verifier& verifier;
    auth::LoginThrottle& throttle;
    dns::Resolver& resolver;
    std::vector<mailauth::SigningKey> signing_keys;  // for the dashboard's DKIM status
    acme::ChallengeResponder* challenges = nullptr;  // [acme]: http-01 answers; null when off
    // The sending API's way into the spool: as the maildrop's (local pipeline, aliases).
    spool::Injector* injector = nullptr;
    const policy::RecipientPolicy* recipients = nullptr;
    const pipeline::PipelineSlot* local_stages = nullptr;
    const events::EventLog* events = nullptr;  // [events]: GET /api/v1/events; null when off
    events::EventSink* event_sink = nullptr;   // told of the API's refusals; null: nobody
    suppress::SuppressionList* suppressions = nullptr;  // [suppression]; null when off
    feedback::SentIndex* sent = nullptr;  // [feedback] with VERP: who sent what; null when off
    // [feedback] unsubscribe_url: signs and reads one-click unsubscribe links; null when off.
    const feedback::UnsubscribeTokens* unsubscribe = nullptr;
};

class DaemonHttp {
  public:
    // Builds the routes and binds the listener (before root is given up); the error says what.
    static Result<std::unique_ptr<DaemonHttp>> create(const config::Config& config,
                                                      DaemonHttpParts parts);
    void start() { server_->start(); }
    void stop() { server_->stop(); }
    // A reload's http.listen (on loop 0): see HttpServer::replace_listeners.
    Result<net::ListenerChange> replace_listeners(const std::vector<std::string>& listen) {
        return server_->replace_listeners(listen);
    }
    // A reload's request sizes, time-outs and connection limit, for connections accepted after.
    void set_limits(const config::Config& config);

  private:
    explicit DaemonHttp(DaemonHttpParts parts) : parts_(std::move(parts)) {}

    DaemonHttpParts parts_;
    std::unique_ptr<admin::MetricsEndpoint> metrics_;
    std::unique_ptr<admin::Dashboard> dashboard_;
    std::unique_ptr<auth::ApiKeyStore> api_keys_;
    std::unique_ptr<api::IdempotencyStore> idempotency_;
    std::unique_ptr<api::MessageApi> api_;
    std::unique_ptr<api::EventsApi> events_api_;
    std::unique_ptr<api::SuppressionsApi> suppressions_api_;
    std::unique_ptr<api::UnsubscribePage> unsubscribe_page_;
    std::unique_ptr<http::HttpServer> server_;
    std::mutex domains_mutex_;  // the dashboard's domains report, kept for a minute
    nlohmann::json domains_;
    std::chrono::steady_clock::time_point domains_at_;
};

}  // namespace tern::cli
