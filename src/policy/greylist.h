// Greylisting (RFC 6647): the first delivery attempt of an unknown (client network, sender,
// recipient) triplet is deferred; the same triplet retried after the delay passes, and is known
// for a long while after. Clients whose triplets pass often are allow-listed whole, so big
// senders that retry from many addresses of one network are delayed once, not per message.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::policy {

struct GreylistOptions {
    std::chrono::seconds delay{300};               // a retry before this is deferred again
    std::chrono::seconds retry_window{2 * 86400};  // a first retry after this starts anew
    std::chrono::seconds max_age{35 * 86400};      // a passed triplet unseen this long is new
    std::uint64_t auto_allowlist = 5;              // passed triplets that allow-list the net
};

// The network a client is greylisted by: its /24 (IPv4) or /64 (IPv6), so a sender's pool of
// outbound servers counts as one client.
std::string client_network(std::string_view client_ip);

class Greylist {
  public:
    using Clock = std::chrono::system_clock;
    explicit Greylist(GreylistOptions options) : options_(options) {}

    struct Decision {
        bool pass = true;
        std::chrono::seconds wait{0};  // when deferred: how long until a retry passes
        const char* why = "";          // "new", "early", "passed", "known", "allowlisted"
    };

    // Judges one delivery attempt and records it.
    Decision check(std::string_view client_ip, std::string_view sender, std::string_view recipient,
                   Clock::time_point now);
    std::size_t size() const;

  private:
    struct Triplet {
        Clock::time_point first_seen;
        Clock::time_point last_seen;
        bool passed = false;
    };
    void prune(Clock::time_point now);

    GreylistOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Triplet> triplets_;
    std::unordered_map<std::string, std::uint64_t> passes_;  // passed triplets per network
    std::size_t prune_at_ = 4096;
};

}  // namespace tern::policy
