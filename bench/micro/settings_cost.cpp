// What reloadable session settings cost a new SMTP connection (docs/performance.md): the server
// context keeps them in an atomic shared_ptr that a reload swaps, and each connection loads it
// once and holds the copy to its end. Measured: that load and the copy's release, on one and two
// threads (the two event loops accepting at once), against copying a plain shared_ptr. Built and
// run by bench/micro/run.sh; no daemon.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>

#include "config/config.h"

namespace {

std::atomic<std::shared_ptr<const tern::config::Config>> settings{
    std::make_shared<const tern::config::Config>()};
std::shared_ptr<const tern::config::Config> plain = std::make_shared<const tern::config::Config>();

void BM_AtomicSettingsLoad(benchmark::State& state) {
    for (auto _ : state) {
        auto held = settings.load();
        benchmark::DoNotOptimize(held->command_timeout);
    }
}
BENCHMARK(BM_AtomicSettingsLoad)->Threads(1)->Threads(2);

void BM_PlainSharedPtrCopy(benchmark::State& state) {
    for (auto _ : state) {
        auto held = plain;
        benchmark::DoNotOptimize(held->command_timeout);
    }
}
BENCHMARK(BM_PlainSharedPtrCopy)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
