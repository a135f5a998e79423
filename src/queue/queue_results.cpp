// QueueManager, results: applying delivery outcomes to recipients, and making every change
// durable in the state logs (one group sync per batch) before anything acts on it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/unix_time.h"
#include "message/dsn.h"
#include "queue/queue_manager.h"
#include "spool/async_sync.h"
#include "spool/spool_format.h"

namespace tern::queue {
namespace asio = boost::asio;
using nlohmann::json;

void QueueManager::apply(Entry& e, const RecipientResult& res, bool counts_as_attempt,
                         std::int64_t now) {
    if (res.index >= e.message.recipients.size()) return;
    auto& r = e.message.recipients[res.index];
    e.busy[res.index] = false;
    if (counts_as_attempt) {
        ++r.attempts;
        r.last_attempt = now;
        r.reply = res.reply;
        r.remote_host = res.remote_host;
        r.from_host = res.from_host;
        r.detail = res.detail;
        r.verdict.clear();
    }
    // An operator's bounce keeps the last attempt's reply and host: the notice names both.
    if (!res.verdict.empty()) r.verdict = res.verdict;
    switch (res.outcome) {
        case Outcome::kDelivered:
            r.status = spool::RecipientStatus::kDelivered;
            // A next hop that accepted NOTIFY owes the success notice now, not us.
            r.reported =
                e.message.sender.empty() || !r.notify.wants_success() || res.notify_passed_on;
            break;
        case Outcome::kFailed:
            r.status = spool::RecipientStatus::kFailed;
            r.reported = e.message.sender.empty() || !r.notify.wants_failure();
            break;
        case Outcome::kDeferred:
            if (options_.retry.expired(e.message.arrival, now)) {
                // Given up: the verdict keeps the last error's code and status (as Postfix
                // does) in Tern's words; the notice gives the last attempt's reply as well.
                r.status = spool::RecipientStatus::kFailed;
                r.verdict = res.reply.substr(0, 3) + " " + status_of_reply(res.reply) +
                            " Gave up: the message was queued for longer than " +
                            duration_text(options_.retry.max_lifetime.count());
                r.reported = e.message.sender.empty() || !r.notify.wants_failure();
            } else {
                r.status = spool::RecipientStatus::kDeferred;
                r.next_attempt = options_.retry.next_attempt(r.attempts, now);
            }
            break;
    }
    // Deferred recipients that ran out of time are "expired"; other failures "bounced".
    std::string_view status = res.outcome == Outcome::kDelivered              ? "delivered"
                              : r.status == spool::RecipientStatus::kDeferred ? "deferred"
                              : res.outcome == Outcome::kDeferred             ? "expired"
                                                                              : "bounced";
    // What the failure means: for an expiry, the last reply says more than Tern's "gave up".
    std::string category;
    if (options_.classifier && res.outcome != Outcome::kDelivered)
        category = options_.classifier->classify(status == "expired" && !r.reply.empty() ? r.reply
                                                 : r.verdict.empty()                     ? r.reply
                                                                     : r.verdict);
    if (options_.metrics || res.outcome != Outcome::kDelivered) {
        Route route = router_(r);
        if (options_.metrics)
            options_.metrics->outcome(route.transport ? route.transport->name() : "none",
                                      route.destination, status, now - e.message.arrival);
        if (res.outcome != Outcome::kDelivered)
            note_failure(RecentFailure{now, e.message.id, r.address, std::string(status),
                                       r.verdict.empty() ? r.reply : r.verdict, r.remote_host,
                                       route.destination});
    }
    if (options_.events) {
        events::Event event;
        event.time = now;
        event.type = std::string(status);
        event.id = e.message.id;
        event.sender = e.message.sender;
        event.recipient = r.address;
        event.reply = r.verdict.empty() ? r.reply : r.verdict;
        event.remote_host = res.remote_host;
        event.attempts = r.attempts;
        event.source = e.message.protocol;
        event.auth = e.message.auth_user;
        event.category = category;
        options_.events->record(std::move(event));
    }
    log_.info("delivery", {{"id", e.message.id},
                           {"to", r.address},
                           {"relay", res.remote_host},
                           {"status", spool::status_name(r.status)},
                           {"attempts", r.attempts},
                           {"reply", r.reply},
                           {"by", r.from_host ? "host" : "tern"},
                           {"verdict", r.verdict},
                           {"category", category},
                           {"detail", res.detail}});
}

asio::awaitable<void> QueueManager::process(std::vector<Completion> batch) {
    std::int64_t now = unix_now();
    std::map<std::string, std::string> lines;
    std::vector<std::string> touched;
    std::vector<std::string> deleted;
    for (auto& c : batch) {
        auto it = entries_.find(c.id);
        if (it == entries_.end()) continue;
        Entry& e = it->second;
        if (c.counts_as_attempt && e.jobs > 0) --e.jobs;
        if (e.deleted) {
            // Deleted by the operator while these deliveries ran: the last one removes it.
            if (e.jobs == 0) {
                deleted.push_back(c.id);
                unsaved_.erase(c.id);
            }
            continue;
        }
        for (const auto& res : c.results) {
            apply(e, res, c.counts_as_attempt, now);
            lines[c.id] +=
                spool::encode_recipient_state(res.index, e.message.recipients[res.index]);
        }
        touched.push_back(c.id);
    }
    if (!deleted.empty()) {
        for (const auto& id : deleted)
            entries_.erase(id);
        if (auto r = co_await remove_durably(deleted); !r)
            log_.error("state_sync", {{"error", r.error().message}});
    }
    co_await persist(std::move(lines));
    // Expired and failed recipients owe failure notices; delays owe delay notices.
    for (auto& id : delay_due_)
        touched.push_back(id);
    delay_due_.clear();
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    // Only a durable state may be acted on: a notice for a failure that a crash could undo
    // might contradict a later delivery. Unsaved entries get theirs once their log is written.
    std::erase_if(touched, [this](const std::string& id) {
        auto it = entries_.find(id);
        return it == entries_.end() || it->second.unsaved;
    });
    co_await send_notices(touched);
    std::vector<std::string> finished;
    for (const auto& id : touched) {
        auto it = entries_.find(id);
        if (it == entries_.end()) continue;
        if (it->second.message.complete() && it->second.jobs == 0 && !it->second.unsaved) {
            finished.push_back(id);
        } else {
            ready_.push_back(id);
        }
    }
    remove_lazily(finished);
}

std::string QueueManager::full_state(const spool::Message& m) {
    std::string text;
    for (std::size_t i = 0; i < m.recipients.size(); ++i)
        text += spool::encode_recipient_state(i, m.recipients[i]);
    text += spool::encode_flag(m.held ? "hold" : "release");
    if (m.delay_warned) text += spool::encode_flag("warned");
    return text;
}

asio::awaitable<std::set<std::string>> QueueManager::persist(
    std::map<std::string, std::string> lines) {
    // An entry whose earlier change never became durable is written again in full: its log may
    // lack any of the lines since, and the last line of each recipient wins at recovery.
    for (const auto& id : unsaved_) {
        auto it = entries_.find(id);
        if (it != entries_.end()) lines[id] = full_state(it->second.message);
    }
    std::vector<spool::SyncItem> items;
    std::vector<std::string> owners;  // per item: the message whose log it is; "" = removals
    std::vector<UniqueFd> open_logs;
    std::vector<std::string> removed;
    std::set<std::string> failed;
    for (auto& [id, text] : lines) {
        auto it = entries_.find(id);
        if (it == entries_.end()) continue;
        if (it->second.message.complete() && it->second.jobs == 0) {
            // Nothing left to do: removing the message file replaces the state update.
            removed.push_back(id);
            continue;
        }
        auto fd = spool_.append_state(id, text);
        if (!fd) {
            log_.error("state_log", {{"id", id}, {"error", fd.error().message}});
            failed.insert(id);
            continue;
        }
        items.push_back(spool::SyncItem{fd->get(), spool_.state_dir_fd()});
        owners.push_back(id);
        open_logs.push_back(std::move(*fd));
    }
    remove_lazily(removed);
    // A retry of a failed removal sync covers every file removed so far, and only those: the
    // messages whose removal it makes durable, and the failures it answers.
    std::vector<std::string> covered;
    std::size_t failures_before = removal_failures_;
    if (removal_unsynced_) {
        for (const auto& [id, e] : removing_)
            covered.push_back(id);
        items.push_back(spool::SyncItem{-1, spool_.msg_dir_fd()});
        owners.emplace_back();
    }
    std::vector<int> errors;
    if (!items.empty())
        errors = co_await spool::async_group_sync_each(spool_.group_sync(), std::move(items),
                                                       asio::use_awaitable);
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (owners[i].empty()) {
            // A removal sync that failed while this one ran still owes its retry.
            removal_unsynced_ = errors[i] != 0 || removal_failures_ != failures_before;
            if (errors[i] == 0)
                for (const auto& id : covered)
                    removing_.erase(id);
            if (errors[i] != 0)
                log_.error("state_sync",
                           {{"what", "removal"}, {"error", std::strerror(errors[i])}});
            continue;
        }
        if (errors[i] != 0) {
            log_.error("state_sync", {{"id", owners[i]}, {"error", std::strerror(errors[i])}});
            failed.insert(owners[i]);
        }
    }
    for (const auto& [id, text] : lines) {
        auto it = entries_.find(id);
        bool lagging = failed.count(id) > 0;
        if (it != entries_.end()) it->second.unsaved = lagging;
        if (lagging && it != entries_.end())
            unsaved_.insert(id);
        else
            unsaved_.erase(id);
    }
    co_return failed;
}

void QueueManager::remove_lazily(const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    for (const auto& id : ids) {
        spool_.remove(id);
        auto it = entries_.find(id);
        removing_.insert_or_assign(id, std::move(it->second));
        entries_.erase(it);
    }
    // Nothing waits for this sync: the next round (every commit syncs the message directory)
    // or one at most GroupSync::kLazyDelay later makes the removals durable, and only then are
    // the messages forgotten (until then `tern queue list` shows them). Their state logs need
    // no sync: recovery removes a state log without its message.
    spool_.group_sync().submit_lazy(-1, spool_.msg_dir_fd(), [link = link_, ids](int err) mutable {
        std::lock_guard lock(link->mutex);
        if (!link->queue) return;  // stopped: the sync ran, nobody is left to tell
        // The queue is looked up again on its loop: it may be gone by the time this runs.
        asio::post(link->queue->home_, [link, ids = std::move(ids), err] {
            QueueManager* queue = nullptr;
            {
                std::lock_guard lock(link->mutex);
                queue = link->queue;
            }
            if (queue) queue->removed(ids, err);
        });
    });
}

void QueueManager::removed(const std::vector<std::string>& ids, int err) {
    if (err != 0) {
        // Kept until a later sync of the directory succeeds (persist, after sync_retry).
        log_.error("state_sync", {{"what", "removal"}, {"error", std::strerror(err)}});
        removal_unsynced_ = true;
        ++removal_failures_;
        wake_results();
        return;
    }
    for (const auto& id : ids)
        removing_.erase(id);
}

asio::awaitable<Result<void>> QueueManager::remove_durably(std::vector<std::string> ids) {
    for (const auto& id : ids)
        spool_.remove(id);
    // The removal must survive a power failure, or the message would come back and be
    // delivered again.
    std::vector<spool::SyncItem> items{spool::SyncItem{-1, spool_.msg_dir_fd()},
                                       spool::SyncItem{-1, spool_.state_dir_fd()}};
    auto [ec] = co_await spool::async_group_sync(spool_.group_sync(), std::move(items),
                                                 asio::as_tuple(asio::use_awaitable));
    removal_unsynced_ = static_cast<bool>(ec);
    if (ec) co_return fail(ErrorCode::kIo, "sync of the spool directories: " + ec.message());
    co_return Result<void>{};
}

}  // namespace tern::queue
