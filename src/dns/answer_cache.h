// AnswerCache: the resolver's answers kept for their TTL in the process, so that a name asked
// again (the SPF and DMARC records of a busy sender, the MX of a busy destination) is answered
// on the caller's thread without a trip through libunbound's worker. Negative answers are kept
// only when the server gave them a TTL (RFC 2308: the SOA's); temporary failures never.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/answer.h"

namespace tern::dns {

class AnswerCache {
  public:
    using Clock = std::chrono::steady_clock;

    // At most `max_entries` answers (0: nothing is kept), each for at most `max_ttl`.
    AnswerCache(std::size_t max_entries, std::chrono::seconds max_ttl)
        : max_entries_(max_entries), max_ttl_(max_ttl) {}

    // The answer kept for (`name`, `type`) while it is fresh at `now`. Names in any case.
    std::optional<Answer> find(std::string_view name, RecordType type, Clock::time_point now);

    // Keeps `answer` for `ttl` seconds from `now` (capped at max_ttl); ignored for a temporary
    // failure or a TTL of 0. When full, expired answers go first, then the oldest to expire.
    void store(std::string_view name, RecordType type, const Answer& answer,
               std::chrono::seconds ttl, Clock::time_point now);

    std::size_t size() const;

  private:
    struct Entry {
        Answer answer;
        Clock::time_point expires;
    };
    static std::string key_of(std::string_view name, RecordType type);
    void make_room(Clock::time_point now);

    std::size_t max_entries_;
    std::chrono::seconds max_ttl_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace tern::dns
