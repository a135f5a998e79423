// QueueId: the name of one accepted message, unique across restarts and sortable by time.
// 16 characters of Crockford base32: 52 bits of microseconds since the epoch, then 28 bits of
// sequence.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tern {

class QueueIdGenerator {
  public:
    // Seeds the low bits from a random source so two processes started in the same
    // microsecond still differ.
    QueueIdGenerator();

    // A fresh id, strictly greater (as a string) than every id this generator made before.
    std::string next();

    // The time encoded in an id, or nullopt when `id` is not a well-formed queue id.
    static std::optional<std::chrono::system_clock::time_point> time_of(std::string_view id);

    // True when `id` has the shape of a queue id (safe to use as a file name).
    static bool valid(std::string_view id);

  private:
    std::mutex mutex_;
    std::uint64_t last_micros_ = 0;  // microseconds of the last id issued
    std::uint32_t sequence_ = 0;     // 28-bit counter within one microsecond
};

}  // namespace tern
