// async_group_sync: awaits GroupSync requests from an Asio coroutine without blocking the
// event loop. All items are submitted at once so they can share one sync round.
#pragma once

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
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

// Completes with the first error of any item, after every item is done.
template <class Token>
auto async_group_sync(GroupSync& sync, std::vector<SyncItem> items, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [&sync](auto handler, std::vector<SyncItem> items) {
            using Handler = decltype(handler);
            auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
            struct State {
                std::atomic<std::size_t> left;
                std::atomic<int> error{0};
                Handler handler;
                decltype(work) guard;
            };
            auto state =
                std::make_shared<State>(items.size(), 0, std::move(handler), std::move(work));
            auto complete = [](const std::shared_ptr<State>& s) {
                auto ex = s->guard.get_executor();
                boost::asio::post(ex, [s]() mutable {
                    int err = s->error.load();
                    s->guard.reset();
                    std::move(s->handler)(
                        boost::system::error_code(err, boost::system::system_category()));
                });
            };
            if (items.empty()) {
                complete(state);
                return;
            }
            for (const auto& item : items) {
                sync.submit(item.fd, item.dir_fd, [state, complete](int err) {
                    int expected = 0;
                    if (err != 0) state->error.compare_exchange_strong(expected, err);
                    if (state->left.fetch_sub(1) == 1) complete(state);
                });
            }
        },
        token, std::move(items));
}

}  // namespace tern::spool
