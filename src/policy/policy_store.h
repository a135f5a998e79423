// PolicyStore: the one seam through which rate limits and greylisting keep their state, so that
// several Tern nodes behind one MX can share it. Implementations: LocalPolicyStore (memory, with
// greylist state persisted in SQLite; the embedded default) and RedisPolicyStore (shared).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "policy/greylist.h"
#include "policy/rate.h"

namespace tern::policy {

class PolicyStore {
  public:
    // Wall-clock time: state may be shared between nodes (keep their clocks synchronised).
    using Clock = std::chrono::system_clock;
    virtual ~PolicyStore() = default;

    // Takes `n` from `key`'s allowance under `rate` at `now`, atomically: true when it fits (and
    // is taken), false when it would go over (nothing is taken). Never fails open: a store that
    // cannot reach shared state judges with its local state.
    virtual boost::asio::awaitable<bool> take(std::string key, Rate rate, Clock::time_point now,
                                              std::uint64_t n = 1) = 0;

    // Judges one delivery attempt of the triplet and records it, atomically (judge_attempt's
    // rule). `client_ip` is keyed by its network (client_network); anything else that is not
    // an address ("spf:example.com") is keyed as it is. Only for a store made with greylisting
    // options; otherwise every attempt passes.
    virtual boost::asio::awaitable<GreylistDecision> greylist(std::string client_ip,
                                                              std::string sender,
                                                              std::string recipient,
                                                              Clock::time_point now) = 0;
};

}  // namespace tern::policy
