// QueueManager: the scheduling loop, the batched processing of delivery results (state log
// appends share one group sync), notices, and the operator commands. All state lives on home.
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

#include "message/dsn.h"
#include "spool/async_sync.h"
#include "spool/spool_format.h"

namespace tern::queue {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

QueueManager::QueueManager(asio::io_context& home, net::EventLoops& loops, spool::Spool& spool,
                           log::Logger& log, QueueOptions options, Router router)
    : home_(home),
      loops_(loops),
      spool_(spool),
      log_(log),
      options_(std::move(options)),
      router_(std::move(router)),
      wake_timer_(home),
      results_event_(home) {}

QueueManager::~QueueManager() = default;

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
    asio::post(home_, [this, message = std::move(message)]() mutable {
        add(std::move(message));
        pump();
    });
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
                    results.push_back(
                        RecipientResult{i, Outcome::kDeferred, "451 4.3.0 " + what, "", ""});
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
            results_event_.expires_at(asio::steady_timer::time_point::max());
            co_await results_event_.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
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

void QueueManager::apply(Entry& e, const RecipientResult& res, bool counts_as_attempt,
                         std::int64_t now) {
    if (res.index >= e.message.recipients.size()) return;
    auto& r = e.message.recipients[res.index];
    e.busy[res.index] = false;
    if (counts_as_attempt) {
        ++r.attempts;
        r.last_attempt = now;
    }
    r.reply = res.reply;
    r.remote_host = res.remote_host;
    r.detail = res.detail;
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
                // Given up: the notice carries the last temporary error and says why.
                r.status = spool::RecipientStatus::kFailed;
                r.reply = res.reply + " (gave up: message older than " +
                          std::to_string(options_.retry.max_lifetime.count()) + "s)";
                r.reported = e.message.sender.empty() || !r.notify.wants_failure();
            } else {
                r.status = spool::RecipientStatus::kDeferred;
                r.next_attempt = options_.retry.next_attempt(r.attempts, now);
            }
            break;
    }
    log_.info("delivery", {{"id", e.message.id},
                           {"to", r.address},
                           {"relay", res.remote_host},
                           {"status", spool::status_name(r.status)},
                           {"attempts", r.attempts},
                           {"reply", r.reply},
                           {"detail", res.detail}});
}

asio::awaitable<void> QueueManager::process(std::vector<Completion> batch) {
    std::int64_t now = unix_now();
    std::map<std::string, std::string> lines;
    std::vector<std::string> touched;
    for (auto& c : batch) {
        auto it = entries_.find(c.id);
        if (it == entries_.end()) continue;
        Entry& e = it->second;
        if (c.counts_as_attempt && e.jobs > 0) --e.jobs;
        if (e.deleted) {
            if (e.jobs == 0) {
                spool_.remove(c.id);
                entries_.erase(it);
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
    co_await persist(std::move(lines));
    // Expired and failed recipients owe failure notices; delays owe delay notices.
    for (auto& id : delay_due_)
        touched.push_back(id);
    delay_due_.clear();
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    co_await send_notices(touched);
    for (const auto& id : touched) {
        auto it = entries_.find(id);
        if (it == entries_.end()) continue;
        if (it->second.message.complete() && it->second.jobs == 0) {
            forget(id);
        } else {
            ready_.push_back(id);
        }
    }
}

asio::awaitable<void> QueueManager::persist(std::map<std::string, std::string> lines) {
    std::vector<spool::SyncItem> items;
    std::vector<UniqueFd> open_logs;
    bool remove_synced = false;
    for (auto& [id, text] : lines) {
        auto it = entries_.find(id);
        if (it == entries_.end()) continue;
        if (it->second.message.complete() && it->second.jobs == 0) {
            // Nothing left to do: removing the message file replaces the state update.
            spool_.remove(id);
            remove_synced = true;
            continue;
        }
        auto fd = spool_.append_state(id, text);
        if (!fd) {
            log_.error("state_log", {{"id", id}, {"error", fd.error().message}});
            continue;
        }
        items.push_back(spool::SyncItem{fd->get(), spool_.state_dir_fd()});
        open_logs.push_back(std::move(*fd));
    }
    if (remove_synced) items.push_back(spool::SyncItem{-1, spool_.msg_dir_fd()});
    if (items.empty()) co_return;
    auto [ec] = co_await spool::async_group_sync(spool_.group_sync(), std::move(items),
                                                 asio::as_tuple(asio::use_awaitable));
    if (ec) log_.error("state_sync", {{"error", ec.message()}});
}

std::string QueueManager::read_original(const spool::Message& m, bool& whole) const {
    // Enough for the header section when the message is too large to return in full.
    constexpr std::uint64_t kHeaderWindow = 256 * 1024;
    auto fd = spool_.open_message(m.id);
    whole = false;
    if (!fd) return {};
    whole = options_.bounce_size_limit == 0 || m.body_length <= options_.bounce_size_limit;
    std::uint64_t want =
        whole ? m.body_length : std::min<std::uint64_t>(m.body_length, kHeaderWindow);
    std::string text(want, '\0');
    std::size_t got = 0;
    while (got < want) {
        ssize_t n = ::pread(fd->get(), text.data() + got, want - got,
                            static_cast<off_t>(m.body_offset + got));
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    if (got < m.body_length) whole = false;
    return text;
}

asio::awaitable<void> QueueManager::send_notices(std::vector<std::string> ids) {
    struct Pending {
        std::string id;
        std::vector<std::size_t>
            reported;  // recipients to mark reported once the notice is durable
        bool warned = false;
    };
    std::vector<Pending> pending;
    std::vector<std::unique_ptr<spool::MessageWriter>> writers;
    std::vector<spool::SyncItem> items;
    NoticeContext ctx{options_.hostname, options_.bounce_size_limit,
                      options_.retry.max_lifetime.count()};
    std::int64_t now = unix_now();
    for (const auto& id : ids) {
        auto it = entries_.find(id);
        if (it == entries_.end() || it->second.deleted) continue;
        spool::Message& m = it->second.message;
        Pending p{id, {}, false};
        std::vector<std::pair<NoticeKind, std::vector<std::size_t>>> notices;
        for (auto kind : {NoticeKind::kFailure, NoticeKind::kSuccess}) {
            auto owing = recipients_owing(m, kind);
            if (!owing.empty()) notices.emplace_back(kind, owing);
        }
        auto notice_at = options_.retry.delay_notice_at(m.arrival);
        if (notice_at != 0 && notice_at <= now && !m.delay_warned) {
            auto owing = recipients_owing(m, NoticeKind::kDelay);
            if (!owing.empty()) notices.emplace_back(NoticeKind::kDelay, owing);
            p.warned = true;
        }
        // Final recipients whose notice is not wanted are marked reported by apply(); any
        // final recipient still unreported here is covered by a notice below.
        for (auto& [kind, owing] : notices) {
            bool whole = false;
            std::string original = read_original(m, whole);
            auto request = notice_request(m, owing, kind, original, ctx,
                                          "<" + m.id + "." + std::to_string(++notice_counter_) +
                                              "@" + options_.hostname + ">");
            if (!whole) request.return_full = false;
            std::string text = message::build_dsn(request, std::chrono::system_clock::now());
            spool::Message notice;
            notice.arrival = now;
            notice.sender = "";
            notice.smtputf8 = m.smtputf8;
            notice.body = smtp::BodyType::k8BitMime;
            notice.client_ip = "127.0.0.1";
            notice.helo = options_.hostname;
            notice.protocol = "local";
            spool::Recipient to;
            to.address = m.sender;
            to.original = m.sender;
            notice.recipients.push_back(std::move(to));
            auto writer = spool_.create(std::move(notice));
            if (!writer) {
                log_.error("notice", {{"id", m.id}, {"error", writer.error().message}});
                continue;
            }
            (*writer)->append(text);
            items.push_back(spool::SyncItem{(*writer)->fd(), spool_.msg_dir_fd()});
            writers.push_back(std::move(*writer));
            if (kind != NoticeKind::kDelay)
                p.reported.insert(p.reported.end(), owing.begin(), owing.end());
            log_.info("notice", {{"id", m.id},
                                 {"kind", kind == NoticeKind::kFailure ? "failure"
                                          : kind == NoticeKind::kDelay ? "delay"
                                                                       : "success"},
                                 {"to", m.sender},
                                 {"notice_id", writers.back()->id()}});
        }
        if (!p.reported.empty() || p.warned) pending.push_back(std::move(p));
    }
    if (writers.empty() && pending.empty()) co_return;
    // Finish the notices and make them durable before the originals say "reported".
    std::vector<spool::Message> finished;
    std::vector<spool::SyncItem> sync_items;
    for (auto& w : writers) {
        auto m = spool_.finish(*w);
        if (!m) {
            log_.error("notice", {{"error", m.error().message}});
            continue;
        }
        sync_items.push_back(spool::SyncItem{w->fd(), spool_.msg_dir_fd()});
        finished.push_back(std::move(*m));
    }
    if (!sync_items.empty()) {
        auto [ec] = co_await spool::async_group_sync(spool_.group_sync(), std::move(sync_items),
                                                     asio::as_tuple(asio::use_awaitable));
        if (ec) {
            log_.error("notice_sync", {{"error", ec.message()}});
            co_return;  // the originals stay unreported and are tried again
        }
    }
    writers.clear();
    for (auto& m : finished)
        add(std::move(m));
    std::map<std::string, std::string> lines;
    for (auto& p : pending) {
        auto it = entries_.find(p.id);
        if (it == entries_.end()) continue;
        auto& m = it->second.message;
        for (auto i : p.reported) {
            m.recipients[i].reported = true;
            lines[p.id] += spool::encode_recipient_state(i, m.recipients[i]);
        }
        if (p.warned) {
            m.delay_warned = true;
            lines[p.id] += spool::encode_flag("warned");
        }
    }
    co_await persist(std::move(lines));
}

void QueueManager::forget(const std::string& id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    spool_.remove(id);
    entries_.erase(it);
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

json QueueManager::describe(const Entry& e, bool full) const {
    const auto& m = e.message;
    json j;
    j["id"] = m.id;
    j["arrival"] = m.arrival;
    j["sender"] = m.sender;
    j["size"] = m.body_length;
    j["held"] = m.held;
    std::size_t pending = 0;
    std::int64_t next = 0;
    for (const auto& r : m.recipients) {
        if (r.final()) continue;
        ++pending;
        if (next == 0 || r.next_attempt < next) next = r.next_attempt;
    }
    j["recipients"] = m.recipients.size();
    j["pending"] = pending;
    j["next_attempt"] = next;
    if (!full) return j;
    j["client_ip"] = m.client_ip;
    j["client_name"] = m.client_name;
    j["helo"] = m.helo;
    j["protocol"] = m.protocol;
    j["envid"] = m.envid;
    j["smtputf8"] = m.smtputf8;
    j["auth_user"] = m.auth_user;
    j["delay_warned"] = m.delay_warned;
    json list = json::array();
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
        const auto& r = m.recipients[i];
        list.push_back({{"address", r.address},
                        {"original", r.original},
                        {"orcpt", r.orcpt},
                        {"notify", r.notify.str()},
                        {"status", std::string(spool::status_name(r.status))},
                        {"in_progress", static_cast<bool>(e.busy[i])},
                        {"attempts", r.attempts},
                        {"last_attempt", r.last_attempt},
                        {"next_attempt", r.next_attempt},
                        {"last_host", r.remote_host},
                        {"last_reply", r.reply},
                        {"last_detail", r.detail}});
    }
    j["recipient_states"] = std::move(list);
    return j;
}

asio::awaitable<json> QueueManager::command(json request) {
    std::string cmd = request.value("cmd", "");
    std::string id = request.value("id", "");
    bool all = request.value("all", false);
    auto error = [](std::string text) { return json{{"ok", false}, {"error", std::move(text)}}; };
    if (cmd == "list") {
        std::vector<const Entry*> sorted;
        for (const auto& [k, e] : entries_)
            sorted.push_back(&e);
        std::sort(sorted.begin(), sorted.end(),
                  [](const Entry* a, const Entry* b) { return a->message.id < b->message.id; });
        json list = json::array();
        for (const auto* e : sorted)
            list.push_back(describe(*e, false));
        co_return json{{"ok", true}, {"messages", std::move(list)}};
    }
    std::vector<std::string> targets;
    if (all && (cmd == "retry" || cmd == "release")) {
        for (const auto& [k, e] : entries_)
            targets.push_back(k);
    } else {
        if (id.empty()) co_return error("a queue id is needed");
        if (!entries_.count(id)) co_return error("no message " + id + " in the queue");
        targets.push_back(id);
    }
    if (cmd == "show") co_return json{{"ok", true}, {"message", describe(entries_.at(id), true)}};
    std::map<std::string, std::string> lines;
    if (cmd == "retry") {
        for (const auto& t : targets) {
            auto& e = entries_.at(t);
            for (auto& r : e.message.recipients)
                if (!r.final()) r.next_attempt = 0;
            ready_.push_back(t);
        }
        pump();
        co_return json{{"ok", true}, {"count", targets.size()}};
    }
    if (cmd == "hold" || cmd == "release") {
        bool hold = cmd == "hold";
        for (const auto& t : targets) {
            auto& e = entries_.at(t);
            if (e.message.held == hold) continue;
            e.message.held = hold;
            if (hold) withdraw_waiting(e);
            lines[t] = spool::encode_flag(hold ? "hold" : "release");
            if (!hold) ready_.push_back(t);
        }
        co_await persist(std::move(lines));
        pump();
        co_return json{{"ok", true}, {"count", targets.size()}};
    }
    if (cmd == "delete") {
        auto& e = entries_.at(id);
        withdraw_waiting(e);
        if (e.jobs > 0) {
            e.deleted = true;  // removed when its running deliveries report
        } else {
            forget(id);
            // The removal must survive a power failure, or the message would come back.
            std::vector<spool::SyncItem> items{spool::SyncItem{-1, spool_.msg_dir_fd()},
                                               spool::SyncItem{-1, spool_.state_dir_fd()}};
            auto [ec] = co_await spool::async_group_sync(spool_.group_sync(), std::move(items),
                                                         asio::as_tuple(asio::use_awaitable));
            if (ec) log_.error("state_sync", {{"error", ec.message()}});
        }
        log_.info("deleted", {{"id", id}});
        co_return json{{"ok", true}};
    }
    if (cmd == "bounce") {
        auto& e = entries_.at(id);
        Completion c{id, {}, false};
        for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
            const auto& r = e.message.recipients[i];
            if (r.final() || e.busy[i]) continue;
            e.busy[i] = true;
            c.results.push_back(
                RecipientResult{i, Outcome::kFailed,
                                "554 5.0.0 Message returned to sender by the postmaster", "", ""});
        }
        std::size_t n = c.results.size();
        completed_.push_back(std::move(c));
        wake_results();
        co_return json{{"ok", true}, {"count", n}};
    }
    co_return error("unknown command " + cmd);
}

}  // namespace tern::queue
