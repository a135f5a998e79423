// Injector: finish, sync (one round for every draft and its hold flag), mark, hand off.
#include "spool/injector.h"

#include <boost/asio/use_awaitable.hpp>

#include "spool/async_sync.h"
#include "spool/spool_format.h"

namespace tern::spool {
namespace asio = boost::asio;

asio::awaitable<std::vector<Result<Message>>> Injector::commit(std::vector<Draft> drafts) {
    std::vector<Result<Message>> out;
    std::vector<SyncItem> items;
    std::vector<std::size_t> owner;  // per sync item: the draft it belongs to
    std::vector<UniqueFd> logs;
    for (std::size_t i = 0; i < drafts.size(); ++i) {
        auto& d = drafts[i];
        auto m = spool_.finish(*d.writer);
        if (m && d.hold) {
            // The hold is durable with the message, in the same round.
            auto log = spool_.append_state(m->id, encode_flag("hold"));
            if (!log) {
                spool_.discard(*d.writer);
                m = std::unexpected(log.error());
            } else {
                m->held = true;
                items.push_back(SyncItem{log->get(), spool_.state_dir_fd()});
                owner.push_back(i);
                logs.push_back(std::move(*log));
            }
        }
        if (m) {
            items.push_back(SyncItem{d.writer->fd(), spool_.msg_dir_fd()});
            owner.push_back(i);
        }
        out.push_back(std::move(m));
    }
    std::vector<int> errors;
    if (!items.empty())
        errors = co_await async_group_sync_each(spool_.group_sync(), std::move(items),
                                                asio::use_awaitable);
    for (std::size_t k = 0; k < errors.size(); ++k) {
        auto& r = out[owner[k]];
        if (errors[k] == 0 || !r) continue;
        spool_.discard(*drafts[owner[k]].writer);
        r = std::unexpected(Error::from_errno(errors[k], "sync spool file " + r->id));
    }
    for (std::size_t i = 0; i < drafts.size(); ++i) {
        if (!out[i]) continue;
        spool_.mark_committed(*drafts[i].writer);
        if (handoff_) handoff_(*out[i]);
    }
    co_return out;
}

asio::awaitable<Result<Message>> Injector::commit(MessageWriter& writer, bool hold) {
    std::vector<Draft> drafts{Draft{&writer, hold}};
    auto results = co_await commit(std::move(drafts));
    co_return std::move(results.front());
}

}  // namespace tern::spool
