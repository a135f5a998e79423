// Verifier: answers a mechanism's NeedVerify, and whether an account exists, on the StorePool's
// threads, then completes on the caller's executor, so an event loop never waits for SQLite or
// argon2id. Destroy it before the io_contexts of its callers.
#pragma once

#include <string>
#include <utility>

#include "auth/mechanism.h"
#include "auth/store_pool.h"
#include "base/async_job.h"

namespace tern::auth {

namespace detail {

// Runs `work(Result<AccountStore*>) -> T` on `pool` and calls the handler with the T on its
// associated executor; never inline, even when the pool refuses the job.
template <class T, class Work, class Token>
auto run_on_pool(StorePool& pool, Work work, Token&& token) {
    return async_job<T, Result<AccountStore*>>(
        [&pool](StorePool::Job job) { pool.submit(std::move(job)); }, std::move(work),
        std::forward<Token>(token));
}

}  // namespace detail

class Verifier {
  public:
    explicit Verifier(StorePoolOptions options) : pool_(std::move(options)) {}

    // The synchronous core: what `store` (or the error standing in for it) answers to `need`.
    // Blocks for an argon2id hash; unknown accounts take as long as known ones.
    static VerifyAnswer answer(Result<AccountStore*> store, const NeedVerify& need);

    // Completes with void(VerifyAnswer). The password in `need` is wiped after use.
    template <class Token>
    auto async_answer(NeedVerify need, Token&& token) {
        return detail::run_on_pool<VerifyAnswer>(
            pool_,
            [need = std::move(need)](Result<AccountStore*> store) mutable {
                VerifyAnswer a = answer(store, need);
                wipe(need.password);
                return a;
            },
            std::forward<Token>(token));
    }

    // Completes with void(Result<bool>): whether account `address` exists, i.e. has a local
    // mailbox (for the recipient policy). Errors are temporary.
    template <class Token>
    auto async_account_exists(std::string address, Token&& token) {
        return detail::run_on_pool<Result<bool>>(
            pool_,
            [address = std::move(address)](Result<AccountStore*> store) -> Result<bool> {
                if (!store) return std::unexpected(store.error());
                return (*store)->exists(address);
            },
            std::forward<Token>(token));
    }

    // Requests waiting for a worker, for metrics.
    std::size_t queued() const { return pool_.queued(); }

  private:
    static void wipe(std::string& secret);

    StorePool pool_;
};

}  // namespace tern::auth
