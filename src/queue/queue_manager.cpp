// QueueManager: the scheduling loop (ready queues, dispatch, timers) and the loop that hands
// delivery results to process() (queue_results.cpp). All state lives on home.
#include "queue/queue_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/unix_time.h"
#include "message/dsn.h"
#include "spool/async_sync.h"
#include "spool/spool_format.h"

namespace tern::queue {
namespace asio = boost::asio;
using nlohmann::json;

QueueManager::QueueManager(asio::io_context& home, net::EventLoops& loops, spool::Spool& spool,
                           log::Logger& log, QueueOptions options, Router router)
    : home_(home),
      loops_(loops),
      spool_(spool),
      injector_(spool, [this](spool::Message m) { add(std::move(m)); }),
      log_(log),
      options_(std::move(options)),
      router_(std::move(router)),
      wake_timer_(home),
      results_event_(home) {
    link_->queue = this;
}

QueueManager::~QueueManager() {
    std::lock_guard lock(link_->mutex);
    link_->queue = nullptr;
}

void QueueManager::start(std::vector<spool::Message> recovered) {
    asio::post(home_, [this, recovered = std::move(recovered)]() mutable {
        for (auto& m : recovered) {
            std::string id = m.id;
            add(std::move(m));
            // Failures recorded before a crash may still owe their notice.
            delay_due_.push_back(id);
        }
        asio::co_spawn(home_, results_loop(), asio::detached);
        asio::co_spawn(home_, timer_loop(), asio::detached);
        if (!delay_due_.empty()) wake_results();
        pump();
    });
}

void QueueManager::submit(spool::Message message) {
    if (options_.events) {
        events::Event e;
        e.time = unix_now();
        e.type = "accepted";
        e.id = message.id;
        e.sender = message.sender;
        e.source = message.protocol;
        e.auth = message.auth_user;
        for (const auto& r : message.recipients) {
            e.recipient = r.address;
            options_.events->record(e);
        }
    }
    asio::post(home_, [this, message = std::move(message)]() mutable {
        add(std::move(message));
        pump();
    });
}

void QueueManager::set_policy(RetryPolicy retry, std::size_t bounce_size_limit,
                              std::size_t max_deliveries) {
    asio::post(home_, [this, retry = std::move(retry), bounce_size_limit, max_deliveries] {
        apply_policy(retry, bounce_size_limit, max_deliveries);
    });
}

void QueueManager::apply_policy(const RetryPolicy& retry, std::size_t bounce_size_limit,
                                std::size_t max_deliveries) {
    options_.retry = retry;
    options_.bounce_size_limit = bounce_size_limit;
    options_.max_deliveries = max_deliveries;
    // The router's concurrency may have changed too: jobs already waiting take it now.
    for (auto& [name, dest] : destinations_) {
        if (dest.waiting.empty()) continue;
        const DeliveryJob& job = dest.waiting.front();
        auto route = router_(job.message->recipients[job.recipients.front()]);
        dest.limit = std::max<std::size_t>(1, route.concurrency);
    }
    for (const auto& [id, e] : entries_)
        ready_.push_back(id);
    pump();
}

void QueueManager::add(spool::Message message) {
    std::string id = message.id;
    Entry entry;
    entry.busy.assign(message.recipients.size(), false);
    entry.message = std::move(message);
    entries_.insert_or_assign(id, std::move(entry));
    ready_.push_back(std::move(id));
}

void QueueManager::pump() {
    while (!ready_.empty()) {
        std::string id = std::move(ready_.front());
        ready_.pop_front();
        examine(id);
    }
    dispatch();
    arm_timer();
}

void QueueManager::examine(const std::string& id) {
    auto it = entries_.find(id);
    if (it == entries_.end() || stopping_) return;
    Entry& e = it->second;
    if (e.deleted || e.message.held) return;
    std::int64_t now = unix_now();
    std::map<std::string, DeliveryJob> jobs;
    std::int64_t next_wake = 0;
    auto consider = [&](std::int64_t t) {
        if (t > now && (next_wake == 0 || t < next_wake)) next_wake = t;
    };
    std::shared_ptr<const spool::Message> snapshot;
    for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
        const auto& r = e.message.recipients[i];
        if (r.final() || e.busy[i]) continue;
        if (r.next_attempt > now) {
            consider(r.next_attempt);
            continue;
        }
        Route route = router_(r);
        auto& job = jobs[route.destination];
        if (!job.message) {
            if (!snapshot) snapshot = std::make_shared<const spool::Message>(e.message);
            job.message = snapshot;
            job.destination = route.destination;
            auto& dest = destinations_[route.destination];
            dest.transport = route.transport;
            dest.limit = std::max<std::size_t>(1, route.concurrency);
        }
        job.recipients.push_back(i);
        e.busy[i] = true;
    }
    for (auto& [name, job] : jobs) {
        ++e.jobs;
        destinations_[name].waiting.push_back(std::move(job));
    }
    // The delay notice is due at a fixed time whether or not an attempt happens then.
    auto notice_at = options_.retry.delay_notice_at(e.message.arrival);
    if (notice_at != 0 && !e.message.delay_warned && !e.message.sender.empty()) {
        bool deferred = std::any_of(e.message.recipients.begin(), e.message.recipients.end(),
                                    [](const spool::Recipient& r) {
                                        return r.status == spool::RecipientStatus::kDeferred;
                                    });
        if (deferred && notice_at <= now) {
            delay_due_.push_back(id);
            wake_results();
        } else if (deferred) {
            consider(notice_at);
        }
    }
    // Older timeline entries for this message are stale once wake_at moves.
    if (next_wake != e.wake_at) {
        e.wake_at = next_wake;
        if (next_wake != 0) timeline_.emplace(next_wake, id);
    }
}

void QueueManager::dispatch() {
    if (stopping_) return;
    bool progress = true;
    // Round-robin over destinations so one busy destination cannot starve the others.
    while (progress && active_ < options_.max_deliveries) {
        progress = false;
        for (auto& [name, dest] : destinations_) {
            if (active_ >= options_.max_deliveries) break;
            if (dest.waiting.empty() || dest.active >= dest.limit) continue;
            DeliveryJob job = std::move(dest.waiting.front());
            dest.waiting.pop_front();
            start_job(dest, std::move(job));
            progress = true;
        }
    }
}

// Takes the message's jobs that still wait for a delivery slot off their queues, so that a hold
// or a delete stops every delivery that has not begun, not only those not yet queued.
void QueueManager::withdraw_waiting(Entry& e) {
    for (auto& [name, dest] : destinations_) {
        for (auto job = dest.waiting.begin(); job != dest.waiting.end();) {
            if (job->message->id != e.message.id) {
                ++job;
                continue;
            }
            for (auto i : job->recipients)
                e.busy[i] = false;
            if (e.jobs > 0) --e.jobs;
            job = dest.waiting.erase(job);
        }
    }
}

void QueueManager::start_job(Destination& dest, DeliveryJob job) {
    ++dest.active;
    ++active_;
    std::string id = job.message->id;
    std::string name = job.destination;
    std::vector<std::size_t> indices = job.recipients;
    Transport* transport = dest.transport;
    auto* preferred = transport->preferred_loop(job);
    auto& loop = preferred ? *preferred : loops_.next();
    asio::co_spawn(
        loop, transport->deliver(std::move(job)),
        [this, id, name, indices](std::exception_ptr error, std::vector<RecipientResult> results) {
            if (error) {
                std::string what = "internal error";
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& ex) {
                    what = ex.what();
                } catch (...) {
                }
                results.clear();
                for (auto i : indices)
                    results.push_back(RecipientResult{i, Outcome::kDeferred, "451 4.3.0 " + what,
                                                      "", "", false, false, ""});
            }
            asio::post(home_, [this, id, name, results = std::move(results)]() mutable {
                auto& dest = destinations_[name];
                --dest.active;
                --active_;
                if (dest.active == 0 && dest.waiting.empty()) destinations_.erase(name);
                completed_.push_back(Completion{id, std::move(results), true});
                wake_results();
                dispatch();
                finish_stop_if_idle();
            });
        });
}

void QueueManager::arm_timer() {
    if (timeline_.empty()) return;
    std::int64_t t = timeline_.top().first;
    if (armed_for_ != 0 && armed_for_ <= t) return;
    armed_for_ = t;
    auto delay = std::chrono::seconds(std::max<std::int64_t>(0, t - unix_now()));
    wake_timer_.expires_after(delay);
}

asio::awaitable<void> QueueManager::timer_loop() {
    while (!stopping_) {
        if (armed_for_ == 0) wake_timer_.expires_at(asio::steady_timer::time_point::max());
        auto [ec] = co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (stopping_) break;
        if (ec == asio::error::operation_aborted) continue;  // re-armed earlier
        armed_for_ = 0;
        std::int64_t now = unix_now();
        while (!timeline_.empty() && timeline_.top().first <= now) {
            auto [t, id] = timeline_.top();
            timeline_.pop();
            auto it = entries_.find(id);
            if (it == entries_.end() || it->second.wake_at != t) continue;
            it->second.wake_at = 0;
            ready_.push_back(std::move(id));
        }
        pump();
    }
}

void QueueManager::wake_results() {
    results_event_.cancel();
}

asio::awaitable<void> QueueManager::results_loop() {
    while (true) {
        if (completed_.empty() && delay_due_.empty()) {
            if (stopping_ && active_ == 0) break;
            // A state write or sync that failed is tried again after a while (the disk may
            // have been full); until then the entries it concerns wait for their notices.
            bool retry = !unsaved_.empty() || removal_unsynced_;
            if (retry)
                results_event_.expires_after(options_.state_retry);
            else
                results_event_.expires_at(asio::steady_timer::time_point::max());
            auto [ec] = co_await results_event_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec || !retry) continue;  // woken for new results
            for (const auto& id : unsaved_)
                delay_due_.push_back(id);  // process() rewrites them, then sends their notices
            if (delay_due_.empty()) {
                co_await persist({});  // only a removal's directory sync is owed
                continue;
            }
        }
        processing_ = true;
        std::vector<Completion> batch(std::make_move_iterator(completed_.begin()),
                                      std::make_move_iterator(completed_.end()));
        completed_.clear();
        co_await process(std::move(batch));
        processing_ = false;
        pump();
        finish_stop_if_idle();
    }
}

void QueueManager::stop(std::function<void()> done) {
    asio::post(home_, [this, done = std::move(done)]() mutable {
        stopping_ = true;
        stopped_ = std::move(done);
        wake_timer_.cancel();
        wake_results();
        finish_stop_if_idle();
    });
}

void QueueManager::finish_stop_if_idle() {
    if (!stopping_ || active_ != 0 || processing_ || !completed_.empty() || !stopped_) return;
    auto done = std::move(stopped_);
    stopped_ = nullptr;
    wake_results();
    done();
}

}  // namespace tern::queue
