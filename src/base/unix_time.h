// unix_now: the wall clock in Unix seconds, as the spool, the queue's schedule and state logs, and
// mail authentication (DKIM t=, SPF %{t}) count time.
#pragma once

#include <chrono>
#include <cstdint>

namespace tern {

inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace tern
