// Unit tests of the Verifier: answers come from the worker threads' own SQLite connections and
// complete on the caller's io_context, never inline; refusals and shutdown still complete; the
// workers' connections keep their locks and see account changes made by another connection.
#include "auth/verifier.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <functional>
#include <latch>
#include <thread>

#include "steps.h"
#include "temp_store.h"

namespace tern::auth {
namespace {

namespace asio = boost::asio;
using Status = VerifyAnswer::Status;

using testing::kCheapHashing;

class VerifierTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(tmp_.path().empty());
        auto store = testing::create_and_open(path());
        ASSERT_TRUE(store);
        ASSERT_TRUE((*store)->add("alice@example.org", "pencil"));
    }
    std::string path() const { return tmp_.path() + "/accounts.sqlite"; }
    StorePoolOptions pool(std::size_t threads = 2, std::size_t max_queued = 64) const {
        return StorePoolOptions{path(), kCheapHashing, threads, max_queued};
    }
    // Runs `need` through `verifier` and the io_context; checks where the completion ran.
    VerifyAnswer ask(Verifier& verifier, NeedVerify need) {
        asio::io_context ctx;
        std::optional<VerifyAnswer> got;
        verifier.async_answer(std::move(need), asio::bind_executor(ctx, [&](VerifyAnswer a) {
                                  EXPECT_EQ(std::this_thread::get_id(), main_thread_);
                                  got = std::move(a);
                              }));
        EXPECT_FALSE(got);  // never completes inline
        ctx.run();          // the work guard keeps it running until the answer is posted
        EXPECT_TRUE(got);
        return got.value_or(VerifyAnswer{});
    }

    testing::TempDir tmp_;
    std::thread::id main_thread_ = std::this_thread::get_id();
};

NeedVerify password(std::string user, std::string pass) {
    return NeedVerify{NeedVerify::What::kPassword, std::move(user), std::move(pass)};
}

NeedVerify scram(std::string user) {
    return NeedVerify{NeedVerify::What::kScramKeys, std::move(user), {}};
}

TEST_F(VerifierTest, PasswordAnswers) {
    Verifier v(pool());
    EXPECT_EQ(ask(v, password("Alice@example.org", "pencil")).status, Status::kOk);
    EXPECT_EQ(ask(v, password("alice@example.org", "crayon")).status, Status::kRejected);
    EXPECT_EQ(ask(v, password("nobody@example.org", "pencil")).status, Status::kRejected);
}

TEST_F(VerifierTest, ScramKeysAnswers) {
    Verifier v(pool());
    auto a = ask(v, scram("alice@example.org"));
    EXPECT_EQ(a.status, Status::kOk);
    ASSERT_TRUE(a.keys);
    EXPECT_EQ(a.keys->stored_key, derive_scram_keys("pencil", a.keys->salt, 4096).stored_key);
    EXPECT_EQ(ask(v, scram("nobody@example.org")).status, Status::kRejected);
}

TEST_F(VerifierTest, UnopenableDatabaseIsTemporary) {
    Verifier v(StorePoolOptions{"/proc/tern-none/accounts.sqlite", kCheapHashing, 1, 8});
    EXPECT_EQ(ask(v, password("alice@example.org", "pencil")).status, Status::kTemporary);
}

TEST_F(VerifierTest, FullQueueIsTemporaryAndNotInline) {
    Verifier v(pool(1, 0));
    EXPECT_EQ(ask(v, password("alice@example.org", "pencil")).status, Status::kTemporary);
}

TEST_F(VerifierTest, AccountExistsForTheRecipientPolicy) {
    Verifier v(pool());
    asio::io_context ctx;
    std::vector<std::pair<std::string, Result<bool>>> got;
    for (std::string who : {"ALICE@example.org", "bob@example.org"})
        v.async_account_exists(who, asio::bind_executor(ctx, [&got, who](Result<bool> r) {
                                   got.emplace_back(who, r);
                               }));
    ctx.run();
    ASSERT_EQ(got.size(), 2u);
    for (auto& [who, r] : got) {
        ASSERT_TRUE(r);
        EXPECT_EQ(*r, who == "ALICE@example.org") << who;
    }
}

TEST_F(VerifierTest, CoroutineDrivesAPlainExchange) {
    Verifier v(pool());
    asio::io_context ctx;
    std::optional<Step> result;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            auto mech = make_mechanism("PLAIN");
            Step s = mech->start(std::string("\0alice@example.org\0pencil", 25));
            while (auto* need = std::get_if<NeedVerify>(&s))
                s = mech->resume(co_await v.async_answer(std::move(*need), asio::use_awaitable));
            result = std::move(s);
        },
        asio::detached);
    ctx.run();
    ASSERT_TRUE(result);
    EXPECT_EQ(testing::as<Success>(*result).user, "alice@example.org");
}

// Runs `check` on each of the pool's `threads` workers, all at the same time (so that no
// worker takes two), and returns when all are done: each worker has its connection open then.
void on_every_worker(StorePool& pool, std::size_t threads,
                     const std::function<void(AccountStore&)>& check) {
    std::latch all_running(static_cast<std::ptrdiff_t>(threads));
    std::latch done(static_cast<std::ptrdiff_t>(threads));
    for (std::size_t i = 0; i < threads; ++i)
        pool.submit([&](Result<AccountStore*> store) {
            all_running.arrive_and_wait();
            EXPECT_TRUE(store) << store.error().message;
            if (store) check(**store);
            done.count_down();
        });
    done.wait();
}

TEST_F(VerifierTest, WorkersKeepTheirLocksAndSeeChangesAtOnce) {
    // The daemon's case: each worker has its own long-lived connection while `tern user`
    // changes accounts. A worker opening its connection must not drop the others' locks,
    // which would let `tern user` remove the WAL under them at its close.
    constexpr std::size_t kThreads = 3;
    StorePool workers(pool(kThreads));
    on_every_worker(workers, kThreads, [](AccountStore& store) {
        EXPECT_EQ(store.verify_password("alice@example.org", "pencil"), true);
        EXPECT_EQ(store.exists("bob@example.org"), false);
    });
    EXPECT_TRUE(testing::another_process_sees_shared_lock(path()));

    auto cli = AccountStore::open(path(), kCheapHashing);
    ASSERT_TRUE(cli);
    ASSERT_TRUE((*cli)->add("bob@example.org", "crayon"));
    ASSERT_TRUE((*cli)->set_password("alice@example.org", "marker"));
    cli->reset();
    on_every_worker(workers, kThreads, [](AccountStore& store) {
        EXPECT_EQ(store.verify_password("alice@example.org", "pencil"), false);
        EXPECT_EQ(store.verify_password("alice@example.org", "marker"), true);
        EXPECT_EQ(store.verify_password("bob@example.org", "crayon"), true);
    });
    EXPECT_TRUE(testing::another_process_sees_shared_lock(path()));
    EXPECT_TRUE(std::filesystem::exists(path() + "-wal"));
}

TEST_F(VerifierTest, PoolCreatesAMissingDatabaseBeforeItsWorkersConnect) {
    std::string fresh = tmp_.path() + "/new/accounts.sqlite";
    Verifier v(StorePoolOptions{fresh, kCheapHashing, 2, 8});
    EXPECT_EQ(ask(v, password("alice@example.org", "pencil")).status, Status::kRejected);
    struct stat st {};
    ASSERT_EQ(stat(fresh.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(VerifierTest, DestructionCompletesEveryQueuedRequest) {
    asio::io_context ctx;
    int answered = 0;
    {
        Verifier v(pool(1, 64));
        for (int i = 0; i < 20; ++i)
            v.async_answer(password("alice@example.org", "pencil"),
                           asio::bind_executor(ctx, [&](VerifyAnswer a) {
                               EXPECT_NE(a.status, Status::kRejected);
                               ++answered;
                           }));
    }
    ctx.run();
    EXPECT_EQ(answered, 20);
}

}  // namespace
}  // namespace tern::auth
