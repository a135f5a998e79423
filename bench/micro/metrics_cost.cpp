// The cost metrics add to the hot path (docs/performance.md): what one received and delivered
// message does to the registry, as the daemon's components do it (server_metrics.cpp,
// queue_metrics.cpp, daemon.cpp's spool rounds), with Google Benchmark. Built and run by
// bench/micro/run.sh; no daemon, no I/O.
#include <benchmark/benchmark.h>

#include <string>
#include <thread>

#include "metrics/metrics.h"

namespace {

using tern::metrics::Registry;

// One counter of fixed labels found again each time (the listener's messages_total).
void BM_CounterByLabels(benchmark::State& state) {
    Registry r;
    auto& family = r.counter("tern_smtpd_messages_total", "h", {"listener", "result"});
    for (auto _ : state)
        family.counter({std::string("smtp"), std::string("queued")}).add();
}
BENCHMARK(BM_CounterByLabels)->Threads(1)->Threads(2);

// A delivery: its outcome counter (3 labels, 500 sites) and its delay histogram.
void BM_DeliveryOutcome(benchmark::State& state) {
    Registry r;
    auto& outcomes = r.counter("tern_deliveries_total", "h", {"transport", "site", "status"});
    auto& delay = r.histogram("tern_delivery_delay_seconds", "h", {"transport", "status"},
                              tern::metrics::queue_delay_buckets());
    std::size_t i = 0;
    for (auto _ : state) {
        std::string site = "mx" + std::to_string(i++ % 500) + ".example.net";
        outcomes.counter({std::string("smtp"), site, std::string("delivered")}).add();
        delay.histogram({std::string("smtp"), std::string("delivered")}).observe(3.0);
    }
}
BENCHMARK(BM_DeliveryOutcome)->Threads(1)->Threads(2);

// Everything one message received over SMTP and delivered once adds: connection, session up and
// down, message result, spool round (latency and group size), delivery outcome and delay.
void BM_PerMessage(benchmark::State& state) {
    Registry r;
    auto& connections = r.counter("tern_smtpd_connections_total", "h", {"listener"});
    auto& sessions = r.gauge("tern_smtpd_sessions", "h", {"listener"});
    auto& messages = r.counter("tern_smtpd_messages_total", "h", {"listener", "result"});
    auto& sync =
        r.histogram("tern_spool_sync_seconds", "h", {}, tern::metrics::fast_latency_buckets());
    auto& group = r.histogram("tern_spool_sync_group_size", "h", {}, {1, 2, 4, 8, 16, 32, 64, 128});
    auto& outcomes = r.counter("tern_deliveries_total", "h", {"transport", "site", "status"});
    auto& delay = r.histogram("tern_delivery_delay_seconds", "h", {"transport", "status"},
                              tern::metrics::queue_delay_buckets());
    for (auto _ : state) {
        connections.counter({std::string("smtp")}).add();
        sessions.gauge({std::string("smtp")}).add(1);
        messages.counter({std::string("smtp"), std::string("queued")}).add();
        sync.histogram({}).observe(0.0021);
        group.histogram({}).observe(12);
        sessions.gauge({std::string("smtp")}).add(-1);
        outcomes
            .counter({std::string("smtp"), std::string("mx.example.net"), std::string("delivered")})
            .add();
        delay.histogram({std::string("smtp"), std::string("delivered")}).observe(1.0);
    }
}
BENCHMARK(BM_PerMessage)->Threads(1)->Threads(2);

// A scrape of a registry holding 1000 delivery series (GET /metrics' rendering).
void BM_Render1000Series(benchmark::State& state) {
    Registry r;
    auto& outcomes = r.counter("tern_deliveries_total", "h", {"transport", "site", "status"});
    for (int i = 0; i < 999; ++i)
        outcomes.counter({"smtp", "mx" + std::to_string(i) + ".example.net", "delivered"}).add();
    for (auto _ : state)
        benchmark::DoNotOptimize(r.render());
}
BENCHMARK(BM_Render1000Series);

}  // namespace

BENCHMARK_MAIN();
