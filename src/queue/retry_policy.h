// RetryPolicy: when to try a deferred recipient again, and when a message has waited too long.
// Pure functions of the attempt count and times, so the schedule is testable without clocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace tern::queue {

struct RetryPolicy {
    std::vector<std::chrono::seconds>
        schedule;  // delay after the 1st, 2nd, ... failure; last repeats
    std::chrono::seconds max_lifetime{5 * 86400};
    std::chrono::seconds delay_warning{4 * 3600};  // 0 = no delay notices

    // Unix time of the next attempt after `attempts` failed attempts, the last at `now`.
    std::int64_t next_attempt(std::uint32_t attempts, std::int64_t now) const {
        if (schedule.empty()) return now + 300;
        std::size_t i = attempts == 0 ? 0 : attempts - 1;
        if (i >= schedule.size()) i = schedule.size() - 1;
        return now + schedule[i].count();
    }

    // True when a message that arrived at `arrival` may not be retried any more at `now`.
    bool expired(std::int64_t arrival, std::int64_t now) const {
        return now - arrival >= max_lifetime.count();
    }

    // Unix time at which a delay notice is due, or 0 when notices are off.
    std::int64_t delay_notice_at(std::int64_t arrival) const {
        return delay_warning.count() == 0 ? 0 : arrival + delay_warning.count();
    }
};

}  // namespace tern::queue
