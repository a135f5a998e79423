// The per-check cost of the policy stores (docs/performance.md), printed, not asserted: the
// local store's greylist check and rate take, and the Redis store's, one at a time (a round trip
// each) and 64 at once (pipelined on the one connection). Disabled in normal runs:
//   build/tests/unit/unit_policy --gtest_also_run_disabled_tests --gtest_filter='*Cost*'
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "policy/local_store.h"
#include "policy/redis_store.h"
#include "redis_server.h"

namespace tern::policy {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using Clock = PolicyStore::Clock;

log::Logger quiet_log{log::Format::kText, log::Level::kError};

GreylistOptions options() {
    GreylistOptions o;
    o.delay = 1s;
    o.auto_allowlist = 0;  // every check reaches the triplet
    return o;
}

// Runs `n` greylist checks and `n` takes on `store`, `parallel` coroutines at a time; the time
// of one operation in microseconds.
double measure(asio::io_context& io, PolicyStore& store, int n, int parallel) {
    auto start = std::chrono::steady_clock::now();
    auto t = Clock::now();
    for (int worker = 0; worker < parallel; ++worker) {
        asio::co_spawn(
            io,
            [&, worker]() -> asio::awaitable<void> {
                for (int i = worker; i < n; i += parallel) {
                    std::string ip = "192.0." + std::to_string(i % 200) + ".1";
                    co_await store.greylist(ip, "sender@example.org", "rcpt@example.net", t);
                    co_await store.take("client_recipients:" + ip, Rate{1000000, 3600s}, t);
                }
            },
            asio::detached);
    }
    io.restart();
    io.run();
    auto took = std::chrono::steady_clock::now() - start;
    return std::chrono::duration<double, std::micro>(took).count() / (2.0 * n);
}

TEST(PolicyStoreCost, DISABLED_LocalAndRedis) {
    asio::io_context io;
    auto local = std::shared_ptr<LocalPolicyStore>(
        LocalPolicyStore::open(LocalStoreOptions{options(), "", 10s}, quiet_log).value());
    measure(io, *local, 10000, 1);  // warm: triplets exist
    std::printf("local: %.3f us an operation (200,000 operations, 1 at a time)\n",
                measure(io, *local, 100000, 1));
    if (!testing::have_redis_server()) GTEST_SKIP() << "no redis-server";
    testing::RedisServer server;
    RedisStoreOptions o;
    o.redis.address = server.address();
    o.greylist = options();
    RedisPolicyStore redis(io.get_executor(), o, local, quiet_log);
    measure(io, redis, 2000, 1);
    std::printf("redis: %.1f us an operation (20,000 operations, 1 at a time)\n",
                measure(io, redis, 10000, 1));
    std::printf("redis: %.1f us an operation (100,000 operations, 64 at a time)\n",
                measure(io, redis, 50000, 64));
    EXPECT_TRUE(redis.reachable());
}

}  // namespace
}  // namespace tern::policy
