// QueueManager, operator commands: list, show, retry, hold, release, delete and bounce, as the
// control socket asks for them (`tern queue`).
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
#include "queue/queue_manager.h"
#include "spool/async_sync.h"
#include "spool/spool_format.h"

namespace tern::queue {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

// One recipient as `list` (the short form: those still to do) and `show` (every field) give it.
json describe_recipient(const spool::Recipient& r, bool busy, bool full) {
    json j{{"address", r.address},
           {"status", std::string(spool::status_name(r.status))},
           {"in_progress", busy},
           {"next_attempt", r.next_attempt},
           {"last_reply", r.reply}};
    if (!full) return j;
    j["original"] = r.original;
    j["forwarded"] = r.forwarded;  // relayed with an SRS return path when [srs] is on
    j["orcpt"] = r.orcpt;
    j["notify"] = r.notify.str();
    j["attempts"] = r.attempts;
    j["last_attempt"] = r.last_attempt;
    j["last_host"] = r.remote_host;
    j["last_detail"] = r.detail;
    j["reply_by"] = r.from_host ? "host" : "tern";  // who said last_reply: last_host, or Tern
    j["verdict"] = r.verdict;
    return j;
}

}  // namespace

json QueueManager::describe(const Entry& e, bool full) const {
    const auto& m = e.message;
    json j;
    j["id"] = m.id;
    j["arrival"] = m.arrival;
    j["sender"] = m.sender;
    j["size"] = m.size();
    j["held"] = m.held;
    std::size_t pending = 0;
    std::int64_t next = 0;
    json recipients = json::array();  // list: as postqueue -p, each one not done; show: all
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
        const auto& r = m.recipients[i];
        if (!r.final()) {
            ++pending;
            if (next == 0 || r.next_attempt < next) next = r.next_attempt;
        }
        if (full || !r.final()) recipients.push_back(describe_recipient(r, e.busy[i], full));
    }
    j["recipients"] = m.recipients.size();
    j["pending"] = pending;
    j["next_attempt"] = next;
    if (!full) {
        j["waiting"] = std::move(recipients);
        return j;
    }
    j["client_ip"] = m.client_ip;
    j["client_name"] = m.client_name;
    j["helo"] = m.helo;
    j["protocol"] = m.protocol;
    j["envid"] = m.envid;
    j["smtputf8"] = m.smtputf8;
    j["requiretls"] = m.requiretls;
    j["auth_user"] = m.auth_user;
    j["delay_warned"] = m.delay_warned;
    j["recipient_states"] = std::move(recipients);
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
        for (const auto& [k, e] : removing_)  // finished; forgotten once the removal is durable
            sorted.push_back(&e);
        std::sort(sorted.begin(), sorted.end(),
                  [](const Entry* a, const Entry* b) { return a->message.id < b->message.id; });
        json list = json::array();
        for (const auto* e : sorted)
            list.push_back(describe(*e, false));
        co_return json{{"ok", true}, {"messages", std::move(list)}};
    }
    if (cmd == "sites") co_return sites();
    if (cmd == "failures") co_return failures();
    std::vector<std::string> targets;
    if (all && (cmd == "retry" || cmd == "release")) {
        for (const auto& [k, e] : entries_)
            targets.push_back(k);
    } else {
        if (id.empty()) co_return error("a queue id is needed");
        if (auto gone = removing_.find(id); gone != removing_.end()) {
            // Finished and being removed (listed until the removal is durable): shown as it
            // ended; deleting it again is done already; nothing else applies to it.
            if (cmd == "show")
                co_return json{{"ok", true}, {"message", describe(gone->second, true)}};
            if (cmd == "delete") co_return json{{"ok", true}};
            co_return error("message " + id + " is finished and being removed");
        }
        if (!entries_.count(id)) co_return error("no message " + id + " in the queue");
        targets.push_back(id);
    }
    if (cmd == "show") co_return json{{"ok", true}, {"message", describe(entries_.at(id), true)}};
    if (cmd == "retry") {
        // A held message stays held: retry names only the messages it made due now.
        if (!all && entries_.at(id).message.held)
            co_return error("message " + id + " is on hold; release it first");
        json done = json::array();
        for (const auto& t : targets) {
            auto& e = entries_.at(t);
            if (e.message.held || e.deleted) continue;
            bool due = false;
            for (auto& r : e.message.recipients) {
                if (r.final()) continue;
                r.next_attempt = 0;
                due = true;
            }
            if (!due) continue;
            ready_.push_back(t);
            done.push_back(t);
        }
        pump();
        co_return json{{"ok", true}, {"count", done.size()}, {"ids", std::move(done)}};
    }
    if (cmd == "hold" || cmd == "release") {
        bool hold = cmd == "hold";
        std::map<std::string, std::string> lines;
        for (const auto& t : targets) {
            auto& e = entries_.at(t);
            if (e.message.held == hold || e.deleted) continue;
            e.message.held = hold;
            lines[t] = spool::encode_flag(hold ? "hold" : "release");
        }
        // The change counts only once it is durable; a failed one is taken back.
        auto failed = co_await persist(lines);
        json changed = json::array();
        std::string failure;
        for (const auto& [t, line] : lines) {
            auto it = entries_.find(t);
            if (it == entries_.end()) continue;
            auto& e = it->second;
            if (failed.count(t)) {
                e.message.held = !hold;
                failure = "could not record the change of " + t + " in the spool";
                continue;
            }
            if (hold) {
                withdraw_waiting(e);
            } else {
                // Delivery resumes at once (docs/queue.md), not at the time a retry was due.
                for (auto& r : e.message.recipients)
                    if (!r.final()) r.next_attempt = 0;
                ready_.push_back(t);
            }
            changed.push_back(t);
        }
        pump();
        if (!failure.empty()) co_return error(failure);
        if (!all && changed.empty()) {
            std::string state = "is not on hold";
            if (hold) state = "is already on hold";
            co_return error("message " + id + " " + state);
        }
        co_return json{{"ok", true}, {"count", changed.size()}, {"ids", std::move(changed)}};
    }
    if (cmd == "delete") {
        auto& e = entries_.at(id);
        withdraw_waiting(e);
        if (e.jobs > 0) {
            e.deleted = true;  // removed (durably) when its running deliveries report
        } else {
            entries_.erase(id);
            unsaved_.erase(id);
            std::vector<std::string> ids{id};
            auto removed = co_await remove_durably(std::move(ids));
            if (!removed) {
                std::string why = removed.error().message;
                log_.error("state_sync", {{"id", id}, {"error", why}});
                co_return error("removed " + id +
                                ", but the removal may not survive a crash: " + why);
            }
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
            // The last attempt's reply and host stay: the notice gives them too.
            RecipientResult res;
            res.index = i;
            res.outcome = Outcome::kFailed;
            res.verdict = "554 5.0.0 Message returned to sender by the postmaster";
            c.results.push_back(std::move(res));
        }
        std::size_t n = c.results.size();
        completed_.push_back(std::move(c));
        wake_results();
        co_return json{{"ok", true}, {"count", n}};
    }
    co_return error("unknown command " + cmd);
}

}  // namespace tern::queue

namespace tern::queue {

boost::asio::awaitable<QueueSummary> QueueManager::summary() const {
    QueueSummary s;
    std::int64_t now = unix_now();
    for (const auto& [id, e] : entries_) {
        ++s.messages;
        if (s.oldest_arrival == 0 || e.message.arrival < s.oldest_arrival)
            s.oldest_arrival = e.message.arrival;
        bool active = false;
        bool deferred = false;
        for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
            const auto& r = e.message.recipients[i];
            if (r.final()) continue;
            if (i < e.busy.size() && e.busy[i]) {
                ++s.recipients_active;
                active = true;
            } else if (r.status == spool::RecipientStatus::kDeferred && r.next_attempt > now) {
                ++s.recipients_deferred;
                deferred = true;
            } else {
                ++s.recipients_pending;
            }
        }
        if (e.message.held)
            ++s.held_messages;
        else if (active)
            ++s.active_messages;
        else if (deferred)
            ++s.deferred_messages;
    }
    s.deliveries_running = active_;
    for (const auto& [key, d] : destinations_)
        if (d.active > 0 || !d.waiting.empty()) ++s.destinations;
    co_return s;
}

}  // namespace tern::queue
