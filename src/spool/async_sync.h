// async_group_sync: awaits GroupSync requests from an Asio coroutine without blocking the
// event loop. All items are submitted at once so they can share one sync round.
#pragma once

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "spool/group_sync.h"

namespace tern::spool {

// One file to make durable: its data (fd) and/or a directory's entries (dir_fd); -1 = none.
struct SyncItem {
    int fd = -1;
    int dir_fd = -1;
};

// Completes with one errno value per item (0 = durable), in the order of `items`, after every
// item is done. For callers that must know which of several files failed. `sync` is a GroupSync
// or anything with the same submit(fd, dir_fd, done) (a delivery's file-call seam).
template <class Sync, class Token>
auto async_group_sync_each(Sync& sync, std::vector<SyncItem> items, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::vector<int>)>(
        [&sync](auto handler, std::vector<SyncItem> items) {
            using Handler = decltype(handler);
            auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
            struct State {
                std::atomic<std::size_t> left;
                std::vector<int> errors;  // each slot written by one sync callback only
                Handler handler;
                decltype(work) guard;
            };
            auto state = std::make_shared<State>(items.size(), std::vector<int>(items.size(), 0),
                                                 std::move(handler), std::move(work));
            auto complete = [](const std::shared_ptr<State>& s) {
                auto ex = s->guard.get_executor();
                boost::asio::post(ex, [s]() mutable {
                    s->guard.reset();
                    std::move(s->handler)(std::move(s->errors));
                });
            };
            if (items.empty()) {
                complete(state);
                return;
            }
            for (std::size_t i = 0; i < items.size(); ++i) {
                sync.submit(items[i].fd, items[i].dir_fd, [state, complete, i](int err) {
                    state->errors[i] = err;
                    // The decrement orders this write before the completion reads the vector.
                    if (state->left.fetch_sub(1, std::memory_order_acq_rel) == 1) complete(state);
                });
            }
        },
        token, std::move(items));
}

// Completes with the first error of any item, after every item is done.
template <class Sync, class Token>
auto async_group_sync(Sync& sync, std::vector<SyncItem> items, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [&sync](auto handler, std::vector<SyncItem> items) {
            // Bound to the caller's executor, so the handler runs where the caller waits.
            auto ex = boost::asio::get_associated_executor(handler);
            async_group_sync_each(
                sync, std::move(items),
                boost::asio::bind_executor(
                    ex, [handler = std::move(handler)](std::vector<int> errors) mutable {
                        int err = 0;
                        for (int e : errors)
                            if (e != 0 && err == 0) err = e;
                        std::move(handler)(
                            boost::system::error_code(err, boost::system::system_category()));
                    }));
        },
        token, std::move(items));
}

}  // namespace tern::spool
