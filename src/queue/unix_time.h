// unix_now: the wall clock in Unix seconds, as the queue's schedule and state logs count time.
#pragma once

#include <chrono>
#include <cstdint>

namespace tern::queue {

inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace tern::queue
