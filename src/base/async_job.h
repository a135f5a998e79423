// async_job: the bridge from a coroutine (or any Asio completion token) to a worker thread that
// runs jobs — the account store's pool, the suppression list's worker. The job runs `work` on
// the worker and posts its result back to the caller's executor; never inline.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <utility>

namespace tern {

// `submit(job)` hands the worker a job that takes an `Arg` (what the worker gives every job:
// its connection, or the error that stands in for it); `work(Arg) -> T` runs there, and the
// handler gets the T on its associated executor.
template <class T, class Arg, class Submit, class Work, class Token>
auto async_job(Submit submit, Work work, Token&& token) {
    return boost::asio::async_initiate<Token, void(T)>(
        [submit = std::move(submit)](auto handler, Work work) mutable {
            auto guard =
                boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
            submit([work = std::move(work), handler = std::move(handler),
                    guard = std::move(guard)](Arg arg) mutable {
                T value = work(std::move(arg));
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

}  // namespace tern
