// ServerContext: what every inbound connection shares (settings, spool, queue, policy, limits,
// the registry of open sessions). Built once at start-up and outlives all sessions; its settings
// are swapped by a reload.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "auth/mechanism.h"
#include "auth/throttle.h"
#include "auth/verifier.h"
#include "config/config.h"
#include "log/logger.h"
#include "net/connection_limits.h"
#include "net/network_list.h"
#include "pipeline/pipeline.h"
#include "policy/access_stage.h"
#include "policy/pregreet.h"
#include "policy/recipient_policy.h"
#include "queue/queue_manager.h"
#include "server/server_metrics.h"
#include "spool/injector.h"
#include "spool/spool.h"
#include "tls/server_context.h"

namespace tern::server {

// Open sessions, so that shutdown can reach each on its own event loop.
class SessionRegistry {
  public:
    using Stop = std::function<void()>;  // posts a stop request to the session's loop
    std::uint64_t add(Stop stop);
    void remove(std::uint64_t key);
    void stop_all();
    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::uint64_t next_ = 0;
    std::unordered_map<std::uint64_t, Stop> sessions_;
};

// Which listener a connection came in on; it decides what the session offers and requires.
enum class ListenerKind {
    kMx,           // port 25: STARTTLS offered, AUTH only if [smtp] auth
    kSubmission,   // port 587 (RFC 6409): STARTTLS, AUTH before MAIL
    kSubmissions,  // port 465 (RFC 8314): TLS from the first byte, AUTH before MAIL
};

std::string_view listener_name(ListenerKind kind);

// What a session reads of the configuration, the trusted networks parsed from it, and the
// pipelines built from it (the session holds them to its end).
struct SessionSettings : config::Config {
    net::NetworkList relay_clients;                                 // may send to other domains
    std::shared_ptr<const pipeline::Pipeline> mx_pipeline;          // stages of the MX listener
    std::shared_ptr<const pipeline::Pipeline> submission_pipeline;  // of submission(s)
};

struct ServerContext {
    // The settings a new session starts with (limits, time-outs, what it offers, who may
    // relay, its stages); a reload stores new ones, and a session keeps those it started with
    // to its end.
    std::atomic<std::shared_ptr<const SessionSettings>> settings;
    log::Logger& log;
    spool::Spool& spool;
    spool::Injector& injector;  // commits each message and hands it to the queue
    queue::QueueManager& queue;
    const policy::RecipientPolicy& policy;  // expands accepted recipients for the spool
    policy::AccessStage& access;  // decides senders and recipients (also in the pipelines)
    net::ConnectionLimits& limits;
    tls::ServerContext* tls = nullptr;         // null: no STARTTLS, no implicit TLS
    auth::Verifier* verifier = nullptr;        // null: no AUTH
    auth::LoginThrottle* throttle = nullptr;   // growing delays after failed AUTH
    auth::MechanismOptions mechanism_options;  // SCRAM settings shared by all sessions
    policy::Pregreet* pregreet = nullptr;      // the MX listener's pregreet test; null: none
    ServerMetrics* metrics = nullptr;          // what /metrics counts; null: nothing counted
    SessionRegistry sessions;
    std::atomic<bool> accepting{true};
};

}  // namespace tern::server
