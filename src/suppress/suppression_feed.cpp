// SuppressionFeed: pending additions under a mutex; at most one job on the worker's queue at a
// time takes them all, so a burst of bounces costs one transaction, not one sync each.
#include "suppress/suppression_feed.h"

namespace tern::suppress {

bool SuppressionFeed::suppresses(const events::Event& e) const {
    if (e.recipient.empty()) return false;
    // A person's "this is spam" (abuse) is a wish to get no more; a fraud or virus report is
    // about the message, not the wish (it is still an event).
    if (e.type == "complained") return complaints_ && e.category == "abuse";
    return e.type == "bounced" && categories_.contains(e.category);
}

void SuppressionFeed::record(events::Event e) {
    if (!suppresses(e)) return;
    Suppression s;
    s.address = normalize_address(e.recipient);
    if (e.type == "complained") {
        s.reason = Reason::kComplaint;
        s.detail = e.category + (e.remote_host.empty() ? "" : " from " + e.remote_host);
    } else {
        s.reason = Reason::kBounce;
        s.detail = e.category + ": " + e.reply.substr(0, 500);
    }
    s.source = "tern";
    s.created = e.time;
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(s));
        if (queued_) return;
        queued_ = true;
    }
    write();
}

void SuppressionFeed::write() {
    list_.submit([this](Result<SuppressionDb*> db) {
        std::vector<Suppression> batch;
        {
            std::lock_guard lock(mutex_);
            batch.swap(pending_);
            queued_ = false;
        }
        if (batch.empty()) return;
        Result<std::size_t> added =
            db ? (*db)->add(batch, false) : Result<std::size_t>(std::unexpected(db.error()));
        if (!added) {
            // Not lost for good: the next bounce of the address adds it again.
            log_.error("suppression",
                       {{"error", added.error().message}, {"addresses", batch.size()}});
            return;
        }
        for (const auto& s : batch)
            log_.info(
                "suppressed",
                {{"address", s.address}, {"reason", reason_name(s.reason)}, {"detail", s.detail}});
    });
}

}  // namespace tern::suppress
