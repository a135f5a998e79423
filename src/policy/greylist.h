// Greylisting (RFC 6647): the first delivery attempt of an unknown (client network, sender,
// recipient) triplet is deferred; the same triplet retried after the delay passes, and is known
// for a long while after. Clients whose triplets pass often are allow-listed whole, so big
// senders that retry from many addresses of one network are delayed once, not per message.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tern::policy {

struct GreylistOptions {
    std::chrono::seconds delay{300};               // a retry before this is deferred again
    std::chrono::seconds retry_window{2 * 86400};  // a first retry after this starts anew
    std::chrono::seconds max_age{35 * 86400};      // a passed triplet unseen this long is new
    std::uint64_t auto_allowlist = 5;              // passed triplets that allow-list the net
};

// The network a client is greylisted by: its /24 (IPv4) or /64 (IPv6), so a sender's pool of
// outbound servers counts as one client. A string that is no address is returned as it is.
std::string client_network(std::string_view client_ip);

// The key of a triplet: "network sender recipient", addresses in lower case. Every store keys
// triplets by it, so that nodes sharing a store agree.
std::string triplet_key(std::string_view network, std::string_view sender,
                        std::string_view recipient);

struct GreylistDecision {
    bool pass = true;
    std::chrono::seconds wait{0};  // when deferred: how long until a retry passes
    const char* why = "";          // "new", "early", "passed", "known", "allowlisted"
};

// Wall-clock time: greylist state outlives the process and is shared between nodes.
using GreylistClock = std::chrono::system_clock;

struct GreylistTriplet {
    GreylistClock::time_point first_seen;
    GreylistClock::time_point last_seen;
    bool passed = false;
};

// Passed triplets of one client network, forgotten max_age after the last pass.
struct GreylistPasses {
    std::uint64_t count = 0;
    GreylistClock::time_point last;
};

// The decision rule itself, for one attempt: `triplet` is the stored state (none when unknown
// or expired) and is updated in place; `passes` likewise (count 0 when unknown). The Redis
// store's script (redis_scripts.cpp) follows this rule line by line; tests hold both to the
// same cases.
GreylistDecision judge_attempt(const GreylistOptions& options,
                               std::optional<GreylistTriplet>& triplet, GreylistPasses& passes,
                               GreylistClock::time_point now);

// What changed in a Greylist since the last call of take_changes: the entries to write (their
// state now) and the keys to delete.
struct GreylistChanges {
    std::vector<std::pair<std::string, GreylistTriplet>> triplets;
    std::vector<std::string> gone_triplets;
    std::vector<std::pair<std::string, GreylistPasses>> passes;
    std::vector<std::string> gone_passes;
    bool empty() const {
        return triplets.empty() && gone_triplets.empty() && passes.empty() && gone_passes.empty();
    }
};

// The triplets of this process, shared by every event loop (one lock; each check is a map
// lookup). Expired entries are dropped as the map grows. Remembers which entries changed, so
// that a writer can persist them in batches (greylist_db.h).
class Greylist {
  public:
    using Clock = GreylistClock;
    using Decision = GreylistDecision;
    explicit Greylist(GreylistOptions options) : options_(options) {}

    // Judges one delivery attempt and records it.
    Decision check(std::string_view client_ip, std::string_view sender, std::string_view recipient,
                   Clock::time_point now);
    std::size_t size() const;

    // Loads stored state (at start); expired entries are skipped and marked gone.
    void restore(std::string key, GreylistTriplet triplet, Clock::time_point now);
    void restore_passes(std::string network, GreylistPasses passes, Clock::time_point now);
    // The changes since the last call; clears them.
    GreylistChanges take_changes();
    // Drops expired entries now (the writer calls it before each batch).
    void prune(Clock::time_point now);

  private:
    bool expired(const GreylistTriplet& t, Clock::time_point now) const;
    void prune_locked(Clock::time_point now);

    GreylistOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, GreylistTriplet> triplets_;
    std::unordered_map<std::string, GreylistPasses> passes_;  // per client network
    std::unordered_set<std::string> dirty_triplets_;
    std::unordered_set<std::string> dirty_passes_;
    std::size_t prune_at_ = 4096;
};

}  // namespace tern::policy
