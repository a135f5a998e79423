// What SIGHUP and `tern reload` change in the running daemon (docs/operations.md): the log file
// is reopened, the certificates are loaded again (or the new list of tls.certificates), the
// local directory is read again, the SMTP and HTTP listeners follow the file's addresses (open
// sessions go on), the relay's routes and outbound TLS levels apply from each recipient's next
// attempt, the queue takes the new retry schedule, lifetime, delay warning, notice size and
// delivery limit, the pipelines are built anew (checks, rules files, mail authentication,
// milters, DKIM keys; the policy store and its state are kept), and new sessions start with the
// new file's limits, time-outs, offers, trusted networks and pipelines (open sessions keep
// theirs). Any other change is named in a reload_pending line and waits for the next start. A
// file that does not load changes nothing (the error is returned).
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cli/daemon_http.h"
#include "cli/daemon_stages.h"
#include "config/config.h"
#include "delivery/local_directory.h"
#include "delivery/smtp_transport.h"
#include "log/logger.h"
#include "net/connection_limits.h"
#include "queue/queue_manager.h"
#include "server/server_context.h"
#include "server/smtp_server.h"
#include "tls/server_context.h"

namespace tern::cli {

// Deliveries at once per destination, by transport: what the router gives the queue, and a
// reload changes (a destination takes the new limit with its next job).
struct DestinationConcurrency {
    std::atomic<std::size_t> relay;  // relay.destination_concurrency, per site
    std::atomic<std::size_t> local;  // queue.local_max_deliveries
    std::atomic<std::size_t> lmtp;   // local.lmtp_concurrency, per LMTP server
};

struct ReloadTargets {
    log::Logger& log;
    const std::string& config_path;  // "" when serve runs on the embedded defaults
    const config::Config& started;   // the configuration the daemon started with
    std::string started_text;        // its file's text, to tell what changed since
    tls::ServerContext& tls;
    std::function<std::optional<std::string>()> acme_certificate;  // the stored one, if any
    delivery::LocalDirectory& directory;
    server::ServerContext& server;
    net::ConnectionLimits& connections;
    server::SmtpServer& listeners;
    delivery::SmtpTransport& relay;  // its routes, TLS levels and own addresses
    DaemonHttp& http;                // its listeners
    StageParts& stage_parts;         // what the pipelines are built from (the policy store too)
    pipeline::PipelineSlot& local_stages;  // for notices and the maildrop
    std::vector<std::weak_ptr<const pipeline::Pipeline>>& pipelines_made;  // for shutdown
    queue::QueueManager& queue;  // its retry schedule, lifetime, notices and delivery limit
    DestinationConcurrency& concurrency;
};

// Runs one reload; {"ok":true, ...what was loaded, "pending": [...]} or {"ok":false,"error":...}.
nlohmann::json reload_daemon(ReloadTargets& targets);

// Whether a reload applies a change of `setting` ("section.key").
bool applied_by_reload(std::string_view setting);

}  // namespace tern::cli
