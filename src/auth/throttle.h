// Throttle and LoginThrottle: growing delays after failed logins, per (client address, account)
// pair, per client address and per account. Pure bookkeeping: the caller passes the time in and
// does the waiting itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::auth {

struct ThrottleOptions {
    std::chrono::milliseconds base_delay{1000};  // wait after the first failure past the free ones
    std::chrono::milliseconds max_delay{60000};  // the doubling stops here
    std::chrono::seconds reset_after{900};       // a key quiet this long since its last failure
                                                 // is forgotten
    std::size_t max_entries = 65536;             // keys tracked; beyond it the stalest is dropped
    std::uint32_t free_failures = 0;             // failures that cost no wait
};

// Failures per key. After n failures in a row, of which the first free_failures cost nothing,
// the next attempt must wait min(base_delay * 2^(n - free_failures - 1), max_delay) from the
// last failure. Thread-safe.
class Throttle {
  public:
    using Clock = std::chrono::steady_clock;

    // Keys are cut to this many octets, which bounds memory whatever a client sends.
    static constexpr std::size_t kMaxKeyLength = 256;

    explicit Throttle(ThrottleOptions options) : options_(options) {}

    // How long the next attempt for `key` must wait at `now`; zero when it may go ahead.
    std::chrono::milliseconds wait(std::string_view key, Clock::time_point now) const;

    // Counts a failed attempt at `now`. With a `tag` (a fingerprint of what was tried), the
    // first attempt with the same tag as the key's last counted failure is a repeat, not a new
    // guess: nothing changes and the result is false. Further repeats count, so that repeating
    // one wrong password cannot make the server hash at full speed. True when counted.
    bool record_failure(std::string_view key, Clock::time_point now,
                        std::optional<std::uint64_t> tag = std::nullopt);

    // Forgets `key` (a successful login).
    void record_success(std::string_view key);

    // Keys tracked now.
    std::size_t size() const;

  private:
    struct Entry {
        std::string key;
        std::uint32_t failures = 0;
        Clock::time_point last_failure;
        std::optional<std::uint64_t> last_tag;  // of the last counted failure
        bool repeated = false;                  // last_tag came once more, uncounted
    };
    using Order = std::list<Entry>;  // least recently failed first

    std::chrono::milliseconds delay_after(std::uint32_t failures) const;

    ThrottleOptions options_;
    mutable std::mutex mutex_;
    Order order_;
    std::unordered_map<std::string, Order::iterator> index_;
};

struct LoginThrottleOptions {
    std::chrono::milliseconds base_delay{1000};  // as in ThrottleOptions, for all three tables
    std::chrono::milliseconds max_delay{60000};
    std::chrono::seconds reset_after{900};
    std::size_t max_entries = 65536;      // per table
    std::uint32_t free_per_login = 3;     // failures of one account from one client address
    std::uint32_t free_per_address = 10;  // failures from one client address, all accounts
    std::uint32_t free_per_account = 10;  // failures of one account, all client addresses
    std::string tag_key;                  // HMAC key of password tags; one per process
};

// The login policy. Every failure counts for its (client address, account) pair, for the
// address and for the account, each with its own allowance of free failures; the wait is the
// longest of the three. So an honest typo costs nothing, while guessing at one account, trying
// many accounts from one address, or many addresses at one account still slows down.
// A wrong password that repeats, once, the pair's last refused one (a client trying its next
// mechanism with the same password, as Python's smtplib does after a 535) is not a new guess
// and is not counted.
// A success forgets the pair's and the account's failures, not the address's: one good password
// must not buy a client a fresh run of guesses at other accounts.
class LoginThrottle {
  public:
    using Clock = Throttle::Clock;

    explicit LoginThrottle(LoginThrottleOptions options);

    // A fingerprint of `password` for record_failure: HMAC-SHA-256 under tag_key, cut to 64
    // bits, so that the password itself is never kept.
    std::uint64_t tag(std::string_view password) const;

    // The longest of the waits; `account` may be empty while it is not known yet (then only
    // the address's wait applies).
    std::chrono::milliseconds wait(std::string_view client, std::string_view account,
                                   Clock::time_point now) const;
    // `password_tag` is tag() of the refused password, when the mechanism showed one (PLAIN,
    // LOGIN; not SCRAM). False when the failure was the one free repeat and was not counted.
    bool record_failure(std::string_view client, std::string_view account,
                        std::optional<std::uint64_t> password_tag, Clock::time_point now);
    void record_success(std::string_view client, std::string_view account);

    const Throttle& logins() const { return logins_; }
    const Throttle& clients() const { return clients_; }
    const Throttle& accounts() const { return accounts_; }

  private:
    std::string tag_key_;
    Throttle logins_;  // key: client address, NUL, account
    Throttle clients_;
    Throttle accounts_;
};

}  // namespace tern::auth
