// QueueMetrics: what the queue manager counts for /metrics (docs/metrics.md): delivery outcomes
// by transport, site and status, and the time from arrival to a final outcome. The queue's
// sizes and ages are read at each scrape (QueueManager::summary).
#pragma once

#include <cstdint>
#include <string_view>

#include "metrics/metrics.h"

namespace tern::queue {

struct QueueMetrics {
    explicit QueueMetrics(metrics::Registry& registry);

    // One recipient's outcome: "delivered", "deferred", "bounced" or "expired"; `age` is the
    // seconds since the message arrived (observed for final outcomes only).
    void outcome(std::string_view transport, std::string_view site, std::string_view status,
                 std::int64_t age);

    metrics::Family& deliveries;  // tern_deliveries_total{transport,site,status}
    metrics::Family& delay;       // tern_delivery_delay_seconds{transport,status}
};

// The queue at one moment, for the gauges of /metrics.
struct QueueSummary {
    std::size_t messages = 0;
    std::size_t held_messages = 0;
    std::size_t deferred_messages = 0;    // waiting for a retry, none of it being delivered
    std::size_t active_messages = 0;      // a delivery of it runs now
    std::size_t recipients_pending = 0;   // not yet tried, or due now
    std::size_t recipients_deferred = 0;  // failed temporarily, waiting for the retry time
    std::size_t recipients_active = 0;    // being delivered now
    std::int64_t oldest_arrival = 0;      // unix seconds; 0 when the queue is empty
    std::size_t deliveries_running = 0;
    std::size_t destinations = 0;  // destinations with waiting or running jobs
};

}  // namespace tern::queue
