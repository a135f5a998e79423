#!/usr/bin/env bash
# Micro-benchmarks of hot-path components (docs/performance.md), built against the release
# build's libraries: `bench/micro/run.sh [BUILD_DIR]` (default build). Needs libbenchmark-dev
# (scripts/install-deps.sh bench) and `make build` first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
out=$build/bench-micro
mkdir -p "$out"
g++ -std=c++23 -O2 -g -DNDEBUG -I"$root/src" "$here/metrics_cost.cpp" \
    "$build/src/metrics/libtern_metrics.a" -lbenchmark -lfmt -lpthread -o "$out/metrics_cost"
g++ -std=c++23 -O2 -g -DNDEBUG -I"$root/src" "$here/directory_cost.cpp" \
    "$build/src/delivery/libtern_delivery.a" "$build/src/smtp/libtern_smtp.a" \
    "$build/src/base/libtern_base.a" -lbenchmark \
    -lpthread -o "$out/directory_cost"
g++ -std=c++23 -O2 -g -DNDEBUG -I"$root/src" "$here/settings_cost.cpp" -lbenchmark -lpthread \
    -o "$out/settings_cost"
g++ -std=c++23 -O2 -g -DNDEBUG -I"$root/src" "$here/events_cost.cpp" \
    "$build/src/events/libtern_events.a" "$build/src/base/libtern_base.a" -lbenchmark \
    -lpthread -o "$out/events_cost"
g++ -std=c++23 -O2 -g -DNDEBUG -I"$root/src" "$here/suppression_cost.cpp" \
    "$build/src/suppress/libtern_suppress.a" "$build/src/bounce/libtern_bounce.a" \
    "$build/src/mailauth/libtern_mailauth.a" "$build/src/base/libtern_base.a" -lbenchmark \
    -lsqlite3 -ltomlplusplus -lidn2 -lpthread \
    -o "$out/suppression_cost"
g++ -std=c++23 -O2 -g -DNDEBUG -I"$root/src" -DTERN_SOURCE_DIR="\"$root\"" "$here/feedback_cost.cpp" \
    "$build/src/feedback/libtern_feedback.a" "$build/src/message/libtern_message.a" \
    "$build/src/auth/libtern_auth.a" "$build/src/base/libtern_base.a" -lbenchmark -lfmt -lcrypto \
    -lpthread -o "$out/feedback_cost"
for bench in metrics_cost directory_cost settings_cost events_cost suppression_cost feedback_cost; do
    "$out/$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
        --benchmark_min_time=0.2
done
