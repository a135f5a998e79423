// QueueManager, views for operators: the recipients still to do per destination and state, and
// the recent failures (the dashboard's "queue by site" and "recent failures").
#include <map>
#include <nlohmann/json.hpp>

#include "base/unix_time.h"
#include "queue/queue_manager.h"

namespace tern::queue {
using nlohmann::json;

void QueueManager::note_failure(RecentFailure failure) {
    recent_failures_.push_front(std::move(failure));
    if (recent_failures_.size() > kRecentFailures) recent_failures_.pop_back();
}

json QueueManager::sites() const {
    struct Counts {
        std::size_t pending = 0, active = 0, deferred = 0, held = 0;
        std::int64_t oldest = 0;
    };
    std::map<std::string, Counts> by_site;
    std::int64_t now = unix_now();
    for (const auto& [id, e] : entries_) {
        for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
            const auto& r = e.message.recipients[i];
            if (r.final()) continue;
            Counts& c = by_site[router_(r).destination];
            if (c.oldest == 0 || e.message.arrival < c.oldest) c.oldest = e.message.arrival;
            if (i < e.busy.size() && e.busy[i])
                ++c.active;
            else if (e.message.held)
                ++c.held;
            else if (r.status == spool::RecipientStatus::kDeferred && r.next_attempt > now)
                ++c.deferred;
            else
                ++c.pending;
        }
    }
    json list = json::array();
    for (const auto& [site, c] : by_site)
        list.push_back({{"site", site},
                        {"pending", c.pending},
                        {"active", c.active},
                        {"deferred", c.deferred},
                        {"held", c.held},
                        {"oldest_arrival", c.oldest}});
    return json{{"ok", true}, {"sites", std::move(list)}};
}

json QueueManager::failures() const {
    json list = json::array();
    for (const auto& f : recent_failures_)
        list.push_back({{"time", f.time},
                        {"id", f.id},
                        {"recipient", f.recipient},
                        {"status", f.status},
                        {"reply", f.reply},
                        {"host", f.host},
                        {"site", f.site}});
    return json{{"ok", true}, {"failures", std::move(list)}};
}

}  // namespace tern::queue
