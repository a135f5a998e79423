// The cost the event log adds to the hot path (docs/performance.md, docs/events.md): what the
// queue's thread pays to record one event (a lock, the event's JSON line), while the log's own
// thread writes and syncs rounds in a temporary directory. Built and run by bench/micro/run.sh.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "events/event_log.h"

namespace {

using tern::events::Event;
using tern::events::EventLog;

struct TempLog {
    std::string dir;
    std::unique_ptr<EventLog> log;
    TempLog() {
        std::string pattern = std::filesystem::temp_directory_path() / "tern-events-bench-XXXXXX";
        dir = ::mkdtemp(pattern.data()) ? pattern : "";
        auto opened = EventLog::open({dir + "/events", 64ull << 20, 1ull << 30,
                                      std::chrono::milliseconds(1000), 10'000'000});
        if (opened) log = std::move(*opened);
    }
    ~TempLog() {
        log.reset();
        std::filesystem::remove_all(dir);
    }
};

// A delivered event as QueueManager::apply makes it.
void BM_RecordDelivered(benchmark::State& state) {
    static TempLog* shared = nullptr;
    if (state.thread_index() == 0) shared = new TempLog;
    Event e;
    e.time = 1764756000;
    e.type = "delivered";
    e.id = "0123ABCD4567EFGH";
    e.sender = "newsletter@example.org";
    e.recipient = "someone.with.a.long.name@example.net";
    e.reply = "250 2.0.0 Ok: queued as 4FzQ1x2Y3Zz";
    e.remote_host = "mx1.example.net";
    e.attempts = 1;
    for (auto _ : state)
        shared->log->record(e);
    if (state.thread_index() == 0) {
        state.counters["dropped"] = static_cast<double>(shared->log->dropped());
        delete shared;
        shared = nullptr;
    }
}
BENCHMARK(BM_RecordDelivered)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
