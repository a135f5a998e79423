// MetricsEndpoint: GET /metrics (the Prometheus text format) and GET /health on the HTTP
// server. The registry's counters come as they are; the queue's sizes and ages and the
// process' memory, descriptors and CPU are read at each scrape. /metrics answers only clients
// in http.metrics_networks (403 for others); /health answers everyone (docs/metrics.md).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "http/server.h"
#include "metrics/metrics.h"
#include "net/network_list.h"
#include "queue/queue_manager.h"

namespace tern::admin {

class MetricsEndpoint {
  public:
    MetricsEndpoint(metrics::Registry& registry, queue::QueueManager& queue,
                    net::NetworkList allowed, std::string version);

    void mount(http::HttpServer& server);

    // The exposition text at this moment (the queue read on its own loop).
    boost::asio::awaitable<std::string> scrape();

  private:
    void read_process();

    metrics::Registry& registry_;
    queue::QueueManager& queue_;
    net::NetworkList allowed_;
    std::int64_t started_;
    metrics::Family& queue_messages_;
    metrics::Family& queue_recipients_;
    metrics::Family& queue_oldest_;
    metrics::Family& deliveries_running_;
    metrics::Family& destinations_;
    metrics::Family& resident_;
    metrics::Family& open_fds_;
    metrics::Family& cpu_;
};

}  // namespace tern::admin
