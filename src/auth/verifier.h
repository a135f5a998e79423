// Verifier: answers a mechanism's NeedVerify, and whether an account exists, on the StorePool's
// threads, then completes on the caller's executor, so an event loop never waits for SQLite or
// argon2id. Destroy it before the io_contexts of its callers.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <utility>

#include "auth/mechanism.h"
#include "auth/store_pool.h"

namespace tern::auth {

namespace detail {

// Runs `work(Result<AccountStore*>) -> T` on `pool` and calls the handler with the T on its
// associated executor; never inline, even when the pool refuses the job.
template <class T, class Work, class Token>
auto run_on_pool(StorePool& pool, Work work, Token&& token) {
    return boost::asio::async_initiate<Token, void(T)>(
        [&pool](auto handler, Work work) {
            auto guard =
                boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
            pool.submit([work = std::move(work), handler = std::move(handler),
                         guard = std::move(guard)](Result<AccountStore*> store) mutable {
                T value = work(store);
                auto ex = guard.get_executor();
                boost::asio::post(ex, [handler = std::move(handler), value = std::move(value),
                                       guard = std::move(guard)]() mutable {
                    guard.reset();
                    std::move(handler)(std::move(value));
                });
            });
        },
        token, std::move(work));
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
