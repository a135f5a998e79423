// The cost of asking the local directory at RCPT (docs/performance.md), now that its tables sit
// behind an atomic shared_ptr so that a reload can replace them: a user's and an alias's
// resolution, a domain check, and the snapshot load alone (what the reloadable directory adds
// to each question), on one and two threads. Built and run by bench/micro/run.sh; no daemon.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "delivery/local_directory.h"

namespace {

using tern::delivery::LocalDirectory;
using tern::delivery::LocalDirectoryOptions;

// 1,000 users and 200 aliases (each to two users), three local domains.
const LocalDirectory& directory() {
    static const LocalDirectory d = [] {
        std::string dir = (std::filesystem::temp_directory_path() / "tern-bench-XXXXXX");
        if (::mkdtemp(dir.data()) == nullptr) std::abort();
        LocalDirectoryOptions o;
        o.domains = {"localhost", "example.org", "example.net"};
        for (int i = 0; i < 1000; ++i)
            o.users.push_back("user" + std::to_string(i));
        o.aliases_file = dir + "/aliases";
        {
            std::ofstream aliases(o.aliases_file);
            for (int i = 0; i < 200; ++i)
                aliases << "list" << i << ": user" << i << ", user" << (i + 500) << "\n";
        }
        auto loaded = LocalDirectory::load(o);
        std::filesystem::remove_all(dir);
        if (!loaded) std::abort();
        return std::move(*loaded);
    }();
    return d;
}

void BM_ResolveUser(benchmark::State& state) {
    const auto& d = directory();
    for (auto _ : state)
        benchmark::DoNotOptimize(d.resolve("user742"));
}
BENCHMARK(BM_ResolveUser)->Threads(1)->Threads(2);

void BM_ResolveAlias(benchmark::State& state) {
    const auto& d = directory();
    for (auto _ : state)
        benchmark::DoNotOptimize(d.resolve("list42"));
}
BENCHMARK(BM_ResolveAlias)->Threads(1)->Threads(2);

void BM_IsLocalDomain(benchmark::State& state) {
    const auto& d = directory();
    for (auto _ : state)
        benchmark::DoNotOptimize(d.is_local_domain("Example.NET"));
}
BENCHMARK(BM_IsLocalDomain)->Threads(1)->Threads(2);

// What each question pays for being reloadable: one atomic shared_ptr load and its release.
void BM_SnapshotLoad(benchmark::State& state) {
    static std::atomic<std::shared_ptr<const int>> current{std::make_shared<const int>(1)};
    for (auto _ : state) {
        auto snapshot = current.load();
        benchmark::DoNotOptimize(*snapshot);
    }
}
BENCHMARK(BM_SnapshotLoad)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
