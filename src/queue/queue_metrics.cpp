// QueueMetrics: the families of delivery outcomes.
#include "queue/queue_metrics.h"

#include <string>

namespace tern::queue {

QueueMetrics::QueueMetrics(metrics::Registry& r)
    : deliveries(r.counter("tern_deliveries_total",
                           "Delivery outcomes of recipients, by transport (local, smtp), "
                           "destination site and status (delivered, deferred, bounced, "
                           "expired).",
                           {"transport", "site", "status"}, 2000)),
      delay(r.histogram("tern_delivery_delay_seconds",
                        "Seconds from a message's arrival to a recipient's final outcome, by "
                        "transport and status.",
                        {"transport", "status"}, metrics::queue_delay_buckets())) {}

void QueueMetrics::outcome(std::string_view transport, std::string_view site,
                           std::string_view status, std::int64_t age) {
    deliveries.counter({std::string(transport), std::string(site), std::string(status)}).add();
    if (status != "deferred")
        delay.histogram({std::string(transport), std::string(status)})
            .observe(static_cast<double>(age < 0 ? 0 : age));
}

}  // namespace tern::queue
