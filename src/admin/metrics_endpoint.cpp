// MetricsEndpoint: the scrape (queue gauges, process facts) and the two routes.
#include "admin/metrics_endpoint.h"

#include <dirent.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <sstream>

#include "base/unix_time.h"

namespace tern::admin {
namespace asio = boost::asio;

MetricsEndpoint::MetricsEndpoint(metrics::Registry& r, queue::QueueManager& queue,
                                 net::NetworkList allowed, std::string version)
    : registry_(r),
      queue_(queue),
      allowed_(std::move(allowed)),
      started_(unix_now()),
      queue_messages_(r.gauge("tern_queue_messages",
                              "Messages in the queue, by state: active (a delivery runs), "
                              "deferred (waiting for a retry), held, and all.",
                              {"state"})),
      queue_recipients_(r.gauge("tern_queue_recipients",
                                "Recipients not yet final, by state: active, deferred, pending "
                                "(not tried yet or due now).",
                                {"state"})),
      queue_oldest_(r.gauge("tern_queue_oldest_message_age_seconds",
                            "Age of the oldest message in the queue; 0 when it is empty.")),
      deliveries_running_(r.gauge("tern_queue_deliveries_running", "Delivery jobs running now.")),
      destinations_(r.gauge("tern_queue_destinations",
                            "Destinations (sites) with deliveries waiting or running.")),
      resident_(r.gauge("process_resident_memory_bytes", "Resident memory of the daemon.")),
      open_fds_(r.gauge("process_open_fds", "Open file descriptors of the daemon.")),
      cpu_(r.gauge("process_cpu_seconds_total",
                   "User and system CPU time the daemon has used, in seconds.")) {
    r.gauge("tern_build_info", "The running version of Tern (always 1).", {"version"})
        .gauge({std::move(version)})
        .set(1);
    r.gauge("process_start_time_seconds", "When the daemon started, in Unix seconds.")
        .gauge({})
        .set(static_cast<double>(started_));
}

void MetricsEndpoint::read_process() {
    long page = ::sysconf(_SC_PAGESIZE);
    long ticks = ::sysconf(_SC_CLK_TCK);
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    if (statm >> size >> resident)
        resident_.gauge({}).set(static_cast<double>(resident) * static_cast<double>(page));
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (std::getline(stat, line)) {
        // Fields after the command name (which may hold spaces) start after the last ')'.
        auto at = line.rfind(')');
        std::istringstream rest(at == std::string::npos ? "" : line.substr(at + 2));
        std::string field;
        std::uint64_t utime = 0;
        std::uint64_t stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        if (ticks > 0)
            cpu_.gauge({}).set(static_cast<double>(utime + stime) / static_cast<double>(ticks));
    }
    std::size_t fds = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(dir))
            if (e->d_name[0] != '.') ++fds;
        ::closedir(dir);
        open_fds_.gauge({}).set(static_cast<double>(fds > 0 ? fds - 1 : 0));  // minus this one
    }
}

asio::awaitable<std::string> MetricsEndpoint::scrape() {
    auto s = co_await asio::co_spawn(queue_.home(), queue_.summary(), asio::use_awaitable);
    auto set = [](metrics::Family& f, const std::string& state, std::size_t n) {
        f.gauge({state}).set(static_cast<double>(n));
    };
    set(queue_messages_, "all", s.messages);
    set(queue_messages_, "active", s.active_messages);
    set(queue_messages_, "deferred", s.deferred_messages);
    set(queue_messages_, "held", s.held_messages);
    set(queue_recipients_, "active", s.recipients_active);
    set(queue_recipients_, "deferred", s.recipients_deferred);
    set(queue_recipients_, "pending", s.recipients_pending);
    std::int64_t now = unix_now();
    queue_oldest_.gauge({}).set(s.oldest_arrival == 0 ? 0.0
                                                      : static_cast<double>(std::max<std::int64_t>(
                                                            0, now - s.oldest_arrival)));
    deliveries_running_.gauge({}).set(static_cast<double>(s.deliveries_running));
    destinations_.gauge({}).set(static_cast<double>(s.destinations));
    read_process();
    co_return registry_.render();
}

void MetricsEndpoint::mount(http::HttpServer& server) {
    server.route(
        http::Verb::get, "/metrics",
        [this](const http::Request&, const http::Peer& peer) -> asio::awaitable<http::Response> {
            if (!allowed_.contains(peer.address))
                co_return http::json_error(http::Status::forbidden,
                                           "metrics are not served to this address "
                                           "(http.metrics_networks)");
            co_return http::text_response(http::Status::ok, co_await scrape(),
                                          "text/plain; version=0.0.4; charset=utf-8");
        });
    server.route(http::Verb::get, "/health",
                 [](const http::Request&, const http::Peer&) -> asio::awaitable<http::Response> {
                     co_return http::json_response(http::Status::ok, "{\"status\":\"ok\"}\n");
                 });
}

}  // namespace tern::admin
