// Rate limits: "N/period" as an operator writes it, and a store of per-key allowances judged by
// the generic cell rate algorithm (GCRA): N may come at once, then one per period/N. The
// allowances of this process are a MemoryRateStore; PolicyStore (policy_store.h) is the seam that
// lets several nodes share them.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::policy {

struct Rate {
    std::uint64_t count = 0;  // 0 = no limit
    std::chrono::seconds period{0};
    bool off() const { return count == 0; }
    // "60 per 1m", for replies and logs.
    std::string describe() const;
};

// "60/1m", "1000/1h", "10/30s", "5000/1d"; "0" or "" = no limit. nullopt when malformed.
std::optional<Rate> parse_rate(std::string_view text, std::string* why = nullptr);

// The allowances in this process, shared by every event loop (one lock; each call is a map
// lookup). Keys whose allowance is whole again are dropped as the map grows.
class MemoryRateStore {
  public:
    using Clock = std::chrono::system_clock;
    // Takes `n` from `key`'s allowance under `rate` at `now`: true when it fits (and is taken),
    // false when it would go over (nothing is taken).
    bool take_now(const std::string& key, Rate rate, Clock::time_point now, std::uint64_t n = 1);
    std::size_t size() const;

  private:
    void prune(Clock::time_point now);

    mutable std::mutex mutex_;
    // The theoretical arrival time of the next request (GCRA's TAT) per key.
    std::unordered_map<std::string, Clock::time_point> tat_;
    std::size_t prune_at_ = 1024;
};

}  // namespace tern::policy
