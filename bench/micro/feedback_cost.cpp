// The costs of reading what comes back (docs/feedback.md, docs/performance.md):
// - read_report on each report of tests/unit/feedback/samples (DSNs, text bounces, complaints,
//   auto-replies), one report per iteration: what the feedback transport pays per report;
// - a VERP return path made (the SMTP transport, per recipient of a VERP message);
// - an unsubscribe link made (the sending API, per recipient with "unsubscribe": true).
// Built and run by bench/micro/run.sh.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "feedback/report.h"
#include "feedback/unsubscribe_token.h"
#include "feedback/verp.h"

namespace {

std::vector<std::string> samples() {
    std::vector<std::string> out;
    auto dir = std::filesystem::path(TERN_SOURCE_DIR) / "tests/unit/feedback/samples";
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".eml") continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        out.push_back(text.str());
    }
    return out;
}

void BM_ReadReport(benchmark::State& state) {
    static const auto reports = samples();
    std::size_t i = 0, octets = 0;
    for (auto _ : state) {
        const auto& r = reports[i++ % reports.size()];
        octets += r.size();
        benchmark::DoNotOptimize(tern::feedback::read_report(r));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(octets));
    state.counters["reports"] = static_cast<double>(reports.size());
}
BENCHMARK(BM_ReadReport);

void BM_VerpEncode(benchmark::State& state) {
    tern::feedback::VerpCodec verp({"bounces.shop.example", {"a secret for the benchmark"}, "b"});
    for (auto _ : state)
        benchmark::DoNotOptimize(verp.encode("CRDZ0WA4HJ0A9RAP", "jane.doe@example.net", true));
}
BENCHMARK(BM_VerpEncode);

void BM_UnsubscribeToken(benchmark::State& state) {
    tern::feedback::UnsubscribeTokens tokens({"a secret for the benchmark"});
    for (auto _ : state)
        benchmark::DoNotOptimize(tokens.make({"shop", "jane.doe@example.net"}));
}
BENCHMARK(BM_UnsubscribeToken);

}  // namespace

BENCHMARK_MAIN();
