// Throttle and LoginThrottle: growing delays after failed logins, per client address and per
// account. Pure bookkeeping: the caller passes the time in and does the waiting itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::auth {

struct ThrottleOptions {
    std::chrono::milliseconds base_delay{1000};  // wait after the first failure
    std::chrono::milliseconds max_delay{60000};  // the doubling stops here
    std::chrono::seconds reset_after{900};       // a key quiet this long since its last failure
                                                 // is forgotten
    std::size_t max_entries = 65536;             // keys tracked; beyond it the stalest is dropped
};

// Failures per key (a client address or an account name). After n failures in a row, the next
// attempt must wait min(base_delay * 2^(n-1), max_delay) from the last failure. Thread-safe.
class Throttle {
  public:
    using Clock = std::chrono::steady_clock;

    // Keys are cut to this many octets, which bounds memory whatever a client sends.
    static constexpr std::size_t kMaxKeyLength = 256;

    explicit Throttle(ThrottleOptions options) : options_(options) {}

    // How long the next attempt for `key` must wait at `now`; zero when it may go ahead.
    std::chrono::milliseconds wait(std::string_view key, Clock::time_point now) const;

    // Counts a failed attempt at `now`.
    void record_failure(std::string_view key, Clock::time_point now);

    // Forgets `key` (a successful login).
    void record_success(std::string_view key);

    // Keys tracked now.
    std::size_t size() const;

  private:
    struct Entry {
        std::string key;
        std::uint32_t failures = 0;
        Clock::time_point last_failure;
    };
    using Order = std::list<Entry>;  // least recently failed first

    std::chrono::milliseconds delay_after(std::uint32_t failures) const;

    ThrottleOptions options_;
    mutable std::mutex mutex_;
    Order order_;
    std::unordered_map<std::string, Order::iterator> index_;
};

// The login policy: one Throttle for client addresses and one for accounts with the same
// options. A success forgets the account's failures, not the client's: one good password must
// not buy a client a fresh run of guesses at other accounts.
class LoginThrottle {
  public:
    using Clock = Throttle::Clock;

    explicit LoginThrottle(ThrottleOptions options) : clients_(options), accounts_(options) {}

    // The longer of the two waits; `account` may be empty while it is not known yet.
    std::chrono::milliseconds wait(std::string_view client, std::string_view account,
                                   Clock::time_point now) const;
    void record_failure(std::string_view client, std::string_view account, Clock::time_point now);
    void record_success(std::string_view account);

    const Throttle& clients() const { return clients_; }
    const Throttle& accounts() const { return accounts_; }

  private:
    Throttle clients_;
    Throttle accounts_;
};

}  // namespace tern::auth
