// Unit tests of the policy stores: the same greylisting and rate cases held against the local
// store and the Redis store (a real redis-server), greylist state persisted in SQLite across a
// restart, and the Redis store's fallback to local judgement when Redis is gone, stalls or
// refuses the password, and its return when Redis is back.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>

#include "policy/local_store.h"
#include "policy/redis_store.h"
#include "redis_server.h"
#include "test_files.h"

namespace tern::policy {
namespace {

using namespace std::chrono_literals;
using Clock = PolicyStore::Clock;

GreylistOptions greylist_options() {
    GreylistOptions o;
    o.delay = 300s;
    o.retry_window = 3600s;
    o.max_age = 86400s;
    o.auto_allowlist = 2;
    return o;
}

// Runs store operations to completion on one io_context (the Redis client lives on it).
struct Runner {
    boost::asio::io_context io;
    template <class T>
    T run(boost::asio::awaitable<T> a) {
        auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
        io.restart();
        io.run();
        return f.get();
    }
};

// One attempt and what it must get.
struct Step {
    std::chrono::seconds at;
    const char* ip;
    const char* from;
    const char* to;
    bool pass;
    const char* why;
    std::chrono::seconds wait;
};

// The greylisting rule, step by step: new, early, a retry from the same /24, known, a triplet
// apart, a retry too late, the network allow-listed after two passes, the null sender.
const std::vector<Step> kGreylistCases = {
    {0s, "192.0.2.1", "a@a.example", "b@b.example", false, "new", 300s},
    {100s, "192.0.2.1", "a@a.example", "b@b.example", false, "early", 200s},
    {301s, "192.0.2.200", "A@A.example", "b@b.example", true, "passed", 0s},
    {5000s, "192.0.2.1", "a@a.example", "b@b.example", true, "known", 0s},
    {5000s, "198.51.100.1", "a@a.example", "c@b.example", false, "new", 300s},
    {9000s, "198.51.100.1", "a@a.example", "c@b.example", false, "new", 300s},  // too late
    {9400s, "198.51.100.1", "a@a.example", "c@b.example", true, "passed", 0s},
    {9400s, "198.51.100.1", "", "d@b.example", false, "new", 300s},
    {9400s, "192.0.2.9", "x@a.example", "y@b.example", false, "new", 300s},
    {9800s, "192.0.2.9", "x@a.example", "y@b.example", true, "passed", 0s},
    {9800s, "192.0.2.9", "new@a.example", "y@b.example", true, "allowlisted", 0s},
    {200000s, "192.0.2.9", "new@a.example", "z@b.example", false, "new", 300s},  // forgotten
};

void check_greylist_cases(Runner& r, PolicyStore& store) {
    auto t0 = Clock::time_point(std::chrono::seconds(1'800'000'000));
    for (const auto& s : kGreylistCases) {
        auto d = r.run(store.greylist(s.ip, s.from, s.to, t0 + s.at));
        SCOPED_TRACE(std::string(s.ip) + " " + s.from + " " + s.to + " at " +
                     std::to_string(s.at.count()));
        EXPECT_EQ(d.pass, s.pass);
        EXPECT_STREQ(d.why, s.why);
        EXPECT_EQ(d.wait, s.wait);
    }
}

// GCRA: three at once, then one per 20 s; a refused request takes nothing; keys apart.
void check_rate_cases(Runner& r, PolicyStore& store) {
    Rate rate{3, 60s};
    auto t = Clock::time_point(std::chrono::seconds(1'800'000'000));
    EXPECT_TRUE(r.run(store.take("k", rate, t)));
    EXPECT_TRUE(r.run(store.take("k", rate, t)));
    EXPECT_TRUE(r.run(store.take("k", rate, t)));
    EXPECT_FALSE(r.run(store.take("k", rate, t)));
    EXPECT_FALSE(r.run(store.take("k", rate, t + 19s)));
    EXPECT_TRUE(r.run(store.take("k", rate, t + 20s)));
    EXPECT_FALSE(r.run(store.take("k", rate, t + 20s)));
    EXPECT_TRUE(r.run(store.take("other", rate, t + 20s)));
    EXPECT_FALSE(r.run(store.take("k", rate, t + 60s, 3)));  // n at once: all or nothing
    EXPECT_TRUE(r.run(store.take("k", rate, t + 60s, 2)));
    EXPECT_TRUE(r.run(store.take("k", Rate{}, t + 60s, 100)));  // no limit
}

log::Logger quiet{log::Format::kText, log::Level::kError};

std::shared_ptr<LocalPolicyStore> local_store(std::string database = "") {
    return LocalPolicyStore::open(LocalStoreOptions{greylist_options(), std::move(database), 1s},
                                  quiet)
        .value();
}

TEST(LocalPolicyStore, GreylistCases) {
    Runner r;
    check_greylist_cases(r, *local_store());
}

TEST(LocalPolicyStore, RateCases) {
    Runner r;
    check_rate_cases(r, *local_store());
}

TEST(LocalPolicyStore, GreylistStateSurvivesARestart) {
    testing::TempDir dir;
    std::string db = dir.path() + "/policy.sqlite";
    auto t = Clock::now();
    {
        auto store = local_store(db);
        EXPECT_FALSE(store->greylist_now("192.0.2.1", "a@a.example", "b@b.example", t).pass);
        EXPECT_FALSE(store->greylist_now("192.0.2.5", "c@a.example", "d@b.example", t).pass);
        EXPECT_TRUE(store->greylist_now("192.0.2.1", "a@a.example", "b@b.example", t + 301s).pass);
    }  // closed: the last changes written
    auto store = local_store(db);
    auto d = store->greylist_now("192.0.2.1", "a@a.example", "b@b.example", t + 400s);
    EXPECT_TRUE(d.pass);
    EXPECT_STREQ(d.why, "known");
    d = store->greylist_now("192.0.2.5", "c@a.example", "d@b.example", t + 400s);
    EXPECT_TRUE(d.pass);
    EXPECT_STREQ(d.why, "passed");  // its first attempt was remembered
}

TEST(LocalPolicyStore, WriterFlushesWhileRunningAndExpiredEntriesGo) {
    testing::TempDir dir;
    std::string db = dir.path() + "/policy.sqlite";
    auto t = Clock::now();
    auto store = local_store(db);
    store->greylist_now("192.0.2.1", "a@a.example", "b@b.example", t);
    store->greylist_now("192.0.2.7", "old@a.example", "b@b.example", t - 7200s);  // expired
    std::this_thread::sleep_for(1500ms);  // flush_interval is 1 s
    auto second = local_store(db);        // the running store's file, as written so far
    auto d = second->greylist_now("192.0.2.1", "a@a.example", "b@b.example", t + 301s);
    EXPECT_STREQ(d.why, "passed");
    EXPECT_EQ(second->greylist_now("192.0.2.7", "old@a.example", "b@b.example", t).why,
              std::string("new"));
}

// The Redis store against a real server, with a prefix of its own per test.
struct RedisFixture {
    Runner r;
    std::shared_ptr<LocalPolicyStore> local = local_store();
    std::unique_ptr<RedisPolicyStore> store;
    RedisFixture(const std::string& address, std::string password = "",
                 std::chrono::milliseconds timeout = 500ms) {
        RedisStoreOptions o;
        o.redis.address = address;
        o.redis.password = std::move(password);
        o.redis.database = 3;
        o.redis.timeout = timeout;
        o.redis.reconnect_max = 200ms;
        o.key_prefix = "test" + std::to_string(::getpid()) + ":";
        o.greylist = greylist_options();
        store = std::make_unique<RedisPolicyStore>(r.io.get_executor(), std::move(o), local, quiet);
    }
};

TEST(RedisPolicyStore, GreylistCases) {
    if (!testing::have_redis_server()) GTEST_SKIP() << "no redis-server";
    testing::RedisServer server;
    RedisFixture f(server.address());
    check_greylist_cases(f.r, *f.store);
    EXPECT_TRUE(f.store->reachable());
    EXPECT_EQ(f.local->greylist_now("192.0.2.1", "q@a", "r@b", Clock::now()).why,
              std::string("new"));  // nothing was judged locally
}

TEST(RedisPolicyStore, RateCases) {
    if (!testing::have_redis_server()) GTEST_SKIP() << "no redis-server";
    testing::RedisServer server;
    RedisFixture f(server.address());
    check_rate_cases(f.r, *f.store);
    EXPECT_TRUE(f.store->reachable());
}

TEST(RedisPolicyStore, TwoNodesShareState) {
    if (!testing::have_redis_server()) GTEST_SKIP() << "no redis-server";
    testing::RedisServer server;
    RedisFixture a(server.address());
    RedisFixture b(server.address());
    auto t = Clock::now();
    EXPECT_FALSE(a.r.run(a.store->greylist("192.0.2.1", "a@x", "b@y", t)).pass);
    EXPECT_TRUE(b.r.run(b.store->greylist("192.0.2.1", "a@x", "b@y", t + 301s)).pass);
    Rate rate{2, 60s};
    EXPECT_TRUE(a.r.run(a.store->take("k", rate, t)));
    EXPECT_TRUE(b.r.run(b.store->take("k", rate, t)));
    EXPECT_FALSE(a.r.run(a.store->take("k", rate, t)));
}

TEST(RedisPolicyStore, PasswordAndScriptCacheFlushed) {
    if (!testing::have_redis_server()) GTEST_SKIP() << "no redis-server";
    testing::RedisServer server(testing::free_port(), "s3cret");
    RedisFixture good(server.address(), "s3cret");
    auto t = Clock::now();
    EXPECT_TRUE(good.r.run(good.store->take("k", Rate{5, 60s}, t)));
    EXPECT_TRUE(good.store->reachable());
    RedisFixture bad(server.address(), "wrong");
    EXPECT_TRUE(bad.r.run(bad.store->take("k", Rate{5, 60s}, t)));  // judged locally
    EXPECT_FALSE(bad.store->reachable());
    // The server forgets its scripts (a restart, SCRIPT FLUSH): EVALSHA's NOSCRIPT, then EVAL.
    RedisClient client(good.r.io.get_executor(), RedisOptions{server.address(), "s3cret", 0});
    std::vector<std::string> flush{"SCRIPT", "FLUSH"};
    auto flushed = good.r.run(client.command(flush));
    ASSERT_TRUE(flushed);
    EXPECT_EQ(flushed->text, "OK");
    EXPECT_TRUE(good.r.run(good.store->take("k", Rate{5, 60s}, t)));
    EXPECT_TRUE(good.store->reachable());
}

TEST(RedisPolicyStore, GoneRedisIsJudgedLocallyThenUsedAgain) {
    if (!testing::have_redis_server()) GTEST_SKIP() << "no redis-server";
    testing::RedisServer server;
    RedisFixture f(server.address());
    auto t = Clock::now();
    Rate rate{2, 60s};
    EXPECT_TRUE(f.r.run(f.store->take("k", rate, t)));
    server.stop();
    // Never fails open: the local allowance and greylist apply.
    EXPECT_TRUE(f.r.run(f.store->take("k", rate, t)));
    EXPECT_FALSE(f.store->reachable());
    EXPECT_TRUE(f.r.run(f.store->take("k", rate, t)));
    EXPECT_FALSE(f.r.run(f.store->take("k", rate, t)));
    EXPECT_FALSE(f.r.run(f.store->greylist("192.0.2.1", "a@x", "b@y", t)).pass);
    server.start();
    bool back = false;
    for (int i = 0; i < 50 && !back; ++i) {  // the backoff is at most 200 ms here
        std::this_thread::sleep_for(50ms);
        f.r.run(f.store->take("other", rate, t));
        back = f.store->reachable();
    }
    EXPECT_TRUE(back);
}

TEST(RedisPolicyStore, StalledRedisCostsAtMostTheTimeout) {
    // A listening socket that never answers: connect succeeds, no reply ever comes.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    RedisFixture f("127.0.0.1:" + std::to_string(ntohs(a.sin_port)), "", 100ms);
    auto start = std::chrono::steady_clock::now();
    auto d = f.r.run(f.store->greylist("192.0.2.1", "a@x", "b@y", Clock::now()));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(d.pass);  // judged locally: a new triplet
    EXPECT_FALSE(f.store->reachable());
    EXPECT_GE(took, 90ms);
    EXPECT_LT(took, 1s);
    start = std::chrono::steady_clock::now();
    f.r.run(f.store->take("k", Rate{1, 60s}, Clock::now()));  // backing off: at once
    EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
    ::close(fd);
}

}  // namespace
}  // namespace tern::policy
