// Dashboard: the web dashboard on the HTTP listener (docs/dashboard.md). Serves one page and
// its script and style (built into the binary), and a JSON API under /dashboard/api/ that the
// page polls: throughput totals, the queue by site and state, each message with the reason of
// its last deferral, the recent failures, TLS and DKIM status; and the queue actions (hold,
// release, retry, delete, bounce). Only admin accounts log in; every change needs the
// session's CSRF token and a same-site request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "admin/dashboard_sessions.h"
#include "auth/throttle.h"
#include "auth/verifier.h"
#include "http/server.h"
#include "log/logger.h"
#include "metrics/metrics.h"
#include "net/network_list.h"
#include "queue/queue_manager.h"

namespace tern::admin {

struct DashboardOptions {
    std::vector<std::string> admins;  // normalised account names
    net::NetworkList networks;        // clients allowed; others get 403
    std::chrono::seconds session_lifetime{8 * 3600};
    std::size_t max_sessions = 100;
};

class Dashboard {
  public:
    // The TLS and DKIM status of the domains page, made by the daemon (which knows the
    // certificate files and signing keys): {"tls": [...], "dkim": [...]}.
    using DomainsReport = std::function<boost::asio::awaitable<nlohmann::json>()>;

    Dashboard(DashboardOptions options, queue::QueueManager& queue,
              const metrics::Registry& registry, auth::Verifier& verifier,
              auth::LoginThrottle& throttle, log::Logger& log, DomainsReport domains);

    void mount(http::HttpServer& server);

    boost::asio::awaitable<http::Response> get(const http::Request& request,
                                               const http::Peer& peer);
    boost::asio::awaitable<http::Response> post(const http::Request& request,
                                                const http::Peer& peer);

  private:
    boost::asio::awaitable<http::Response> login(const http::Request& request,
                                                 const http::Peer& peer);
    std::optional<DashboardSession> session_of(const http::Request& request);
    boost::asio::awaitable<nlohmann::json> queue_command(nlohmann::json request);
    boost::asio::awaitable<nlohmann::json> overview();

    DashboardOptions options_;
    queue::QueueManager& queue_;
    const metrics::Registry& registry_;
    auth::Verifier& verifier_;
    auth::LoginThrottle& throttle_;
    log::Logger& log_;
    DomainsReport domains_;
    SessionStore sessions_;
    std::mutex logins_mutex_;
    std::set<std::string> logins_in_flight_;  // "client ADDRESS", "account NAME"
};

}  // namespace tern::admin
