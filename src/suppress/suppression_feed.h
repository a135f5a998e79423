// SuppressionFeed: the event sink that puts hard-bounced and complaining addresses on the
// suppression list. A "bounced" event whose category is one of the configured ones
// ([suppression] on_bounce: invalid_recipient, inactive_mailbox, invalid_domain by default)
// adds its recipient to the global list, and so does a "complained" event (a complaint report
// matched to a message, docs/feedback.md) when [suppression] on_complaint is set; deferrals,
// expiries and other failures (a reputation block, a full mailbox) never do. Additions are
// gathered and written in one transaction per worker turn.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "events/event.h"
#include "log/logger.h"
#include "suppress/suppression_list.h"

namespace tern::suppress {

class SuppressionFeed : public events::EventSink {
  public:
    SuppressionFeed(SuppressionList& list, std::set<std::string> categories, bool complaints,
                    log::Logger& log)
        : list_(list), categories_(std::move(categories)), complaints_(complaints), log_(log) {}
    // Waits for the additions already handed to the list's worker (they refer to this feed).
    ~SuppressionFeed() override { list_.wait_idle(); }

    // Returns at once: the addition runs on the list's worker.
    void record(events::Event e) override;

    // Whether an event of this type and category puts its recipient on the list.
    bool suppresses(const events::Event& e) const;

  private:
    void write();

    SuppressionList& list_;
    std::set<std::string> categories_;
    bool complaints_;
    log::Logger& log_;
    std::mutex mutex_;
    std::vector<Suppression> pending_;
    bool queued_ = false;  // a job that will take pending_ is on the worker's queue
};

}  // namespace tern::suppress
