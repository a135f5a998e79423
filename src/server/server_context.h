// ServerContext: what every inbound connection shares (configuration, spool, queue, policy,
// limits, the registry of open sessions). Built once at start-up and outlives all sessions.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "config/config.h"
#include "log/logger.h"
#include "net/connection_limits.h"
#include "net/network_list.h"
#include "queue/queue_manager.h"
#include "server/recipient_policy.h"
#include "spool/spool.h"

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

struct ServerContext {
    const config::Config& config;
    log::Logger& log;
    spool::Spool& spool;
    queue::QueueManager& queue;
    const RecipientPolicy& policy;
    net::ConnectionLimits& limits;
    const net::NetworkList& relay_clients;  // clients that may send to other domains
    SessionRegistry sessions;
    std::atomic<bool> accepting{true};
};

}  // namespace tern::server
