// The costs issue 11's slice adds (docs/performance.md, docs/suppression.md, docs/bounces.md):
// - what an API request pays per recipient to be looked up on the suppression list: a batch of
//   `range(0)` addresses looked up in one read transaction against a list of 1,000,000
//   entries (none of them suppressed, the common case), on the list's own thread in the daemon;
// - what the queue's thread pays to classify one failure with the built-in rules.
// Built and run by bench/micro/run.sh.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "bounce/classifier.h"
#include "suppress/suppression_db.h"

namespace {

using tern::suppress::Suppression;
using tern::suppress::SuppressionDb;

constexpr int kListed = 1'000'000;

struct TempList {
    std::string dir;
    std::unique_ptr<SuppressionDb> db;
    TempList() {
        std::string pattern = std::filesystem::temp_directory_path() / "tern-supp-bench-XXXXXX";
        dir = ::mkdtemp(pattern.data()) ? pattern : "";
        auto opened = SuppressionDb::open(dir + "/s.sqlite");
        if (!opened) return;
        db = std::move(*opened);
        std::vector<Suppression> batch;
        for (int i = 0; i < kListed; ++i) {
            batch.push_back({"", "gone" + std::to_string(i) + "@example.org",
                             tern::suppress::Reason::kBounce, "invalid_recipient: 550 5.1.1",
                             "tern", 1764756000});
            if (batch.size() == 50'000) {
                (void)db->add(batch, false);
                batch.clear();
            }
        }
    }
    ~TempList() {
        db.reset();
        std::filesystem::remove_all(dir);
    }
};

void BM_LookupBatch(benchmark::State& state) {
    static TempList list;
    if (!list.db) {
        state.SkipWithError("cannot make the list");
        return;
    }
    std::vector<std::string> addresses;
    for (int i = 0; i < state.range(0); ++i)
        addresses.push_back("customer" + std::to_string(i) + "@example.net");
    for (auto _ : state) {
        auto found = list.db->find("", addresses);
        benchmark::DoNotOptimize(found);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LookupBatch)->Arg(1)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Classify(benchmark::State& state) {
    static auto classifier = tern::bounce::BounceClassifier::create({});
    const char* replies[] = {
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
        "550 5.1.1 double-checking the recipient's email address for typos",
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected "
        "volume or user complaints",
        "451 4.4.1 connect to 192.0.2.1:25: Connection refused",
        "554 no",
    };
    std::size_t i = 0;
    for (auto _ : state) {
        auto category = (*classifier)->classify(replies[i++ % 4]);
        benchmark::DoNotOptimize(category);
    }
}
BENCHMARK(BM_Classify)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
