// Pregreet: postscreen's pregreet test. The MX listener sends the first line of a multi-line
// greeting ("220-"), waits, then the rest; an SMTP client waits for the whole greeting, while
// many spam bots talk at once. This keeps the settings and the clients that passed lately.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/network_list.h"

namespace tern::policy {

struct PregreetOptions {
    std::chrono::milliseconds wait{0};     // 0 = no test
    bool drop = true;                      // a client that talks first: 521 and close; else log
    net::NetworkList skip;                 // never tested (loopback by default)
    std::chrono::seconds pass_ttl{86400};  // a client that passed is not tested again this long
};

class Pregreet {
  public:
    using Clock = std::chrono::steady_clock;
    explicit Pregreet(PregreetOptions options) : options_(std::move(options)) {}

    const PregreetOptions& options() const { return options_; }

    // Whether the client at `ip` is to be tested now: the test is on, the client is not in the
    // skipped networks, and it has not passed within pass_ttl.
    bool applies(std::string_view ip, Clock::time_point now);
    // The client waited for the greeting.
    void passed(std::string_view ip, Clock::time_point now);
    std::size_t remembered() const;

  private:
    PregreetOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Clock::time_point> passed_;  // ip -> when it passed
    std::size_t prune_at_ = 4096;
};

}  // namespace tern::policy
