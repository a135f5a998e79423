// Throttle bookkeeping: a map from key to a node of a list kept in order of last failure, so
// that eviction of the stalest key and the move of a key to the back are both O(1); and the
// login policy over three such tables.
#include "auth/throttle.h"

#include <algorithm>
#include <cstring>

#include "auth/crypto.h"

namespace tern::auth {
namespace {

// Failures counted past the free ones: the doubling stops long before, and the count cannot
// overflow.
constexpr std::uint32_t kMaxCountedFailures = 32;

std::string_view cut(std::string_view key) {
    return key.substr(0, Throttle::kMaxKeyLength);
}

// The key of a (client address, account) pair; NUL cannot occur in either.
std::string login_key(std::string_view client, std::string_view account) {
    std::string key(client);
    key += '\0';
    key += account;
    return key;
}

}  // namespace

std::chrono::milliseconds Throttle::delay_after(std::uint32_t failures) const {
    if (failures <= options_.free_failures) return std::chrono::milliseconds(0);
    auto delay = options_.base_delay;
    for (std::uint32_t i = options_.free_failures + 1; i < failures && delay < options_.max_delay;
         ++i)
        delay *= 2;
    return std::min(delay, options_.max_delay);
}

std::chrono::milliseconds Throttle::wait(std::string_view key, Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    auto it = index_.find(std::string(cut(key)));
    if (it == index_.end()) return std::chrono::milliseconds(0);
    const Entry& entry = *it->second;
    if (now - entry.last_failure >= options_.reset_after) return std::chrono::milliseconds(0);
    auto until = entry.last_failure + delay_after(entry.failures);
    if (until <= now) return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(until - now);
}

bool Throttle::record_failure(std::string_view key, Clock::time_point now,
                              std::optional<std::uint64_t> tag) {
    std::lock_guard lock(mutex_);
    std::string k(cut(key));
    auto it = index_.find(k);
    if (it == index_.end()) {
        if (options_.max_entries == 0) return true;
        while (index_.size() >= options_.max_entries) {
            index_.erase(order_.front().key);
            order_.pop_front();
        }
        order_.push_back(Entry{k, 0, now, std::nullopt, false});
        it = index_.emplace(std::move(k), std::prev(order_.end())).first;
    } else {
        Entry& entry = *it->second;
        bool fresh = now - entry.last_failure < options_.reset_after;
        if (fresh && tag && entry.last_tag == tag && !entry.repeated) {
            entry.repeated = true;
            return false;
        }
        order_.splice(order_.end(), order_, it->second);
        if (!fresh) entry.failures = 0;
    }
    Entry& entry = *it->second;
    entry.failures = std::min(entry.failures + 1, options_.free_failures + kMaxCountedFailures);
    entry.last_failure = now;
    entry.last_tag = tag;
    entry.repeated = false;
    return true;
}

void Throttle::record_success(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(std::string(cut(key)));
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
}

std::size_t Throttle::size() const {
    std::lock_guard lock(mutex_);
    return index_.size();
}

LoginThrottle::LoginThrottle(LoginThrottleOptions options)
    : tag_key_(std::move(options.tag_key)),
      logins_(ThrottleOptions{options.base_delay, options.max_delay, options.reset_after,
                              options.max_entries, options.free_per_login}),
      clients_(ThrottleOptions{options.base_delay, options.max_delay, options.reset_after,
                               options.max_entries, options.free_per_address}),
      accounts_(ThrottleOptions{options.base_delay, options.max_delay, options.reset_after,
                                options.max_entries, options.free_per_account}) {}

std::uint64_t LoginThrottle::tag(std::string_view password) const {
    std::string mac = hmac_sha256(tag_key_, password);
    std::uint64_t out = 0;
    std::memcpy(&out, mac.data(), sizeof out);
    return out;
}

std::chrono::milliseconds LoginThrottle::wait(std::string_view client, std::string_view account,
                                              Clock::time_point now) const {
    auto w = clients_.wait(client, now);
    if (account.empty()) return w;
    return std::max(
        {w, accounts_.wait(account, now), logins_.wait(login_key(client, account), now)});
}

bool LoginThrottle::record_failure(std::string_view client, std::string_view account,
                                   std::optional<std::uint64_t> password_tag,
                                   Clock::time_point now) {
    if (!account.empty()) {
        if (!logins_.record_failure(login_key(client, account), now, password_tag)) return false;
        accounts_.record_failure(account, now);
    }
    clients_.record_failure(client, now);
    return true;
}

void LoginThrottle::record_success(std::string_view client, std::string_view account) {
    logins_.record_success(login_key(client, account));
    accounts_.record_success(account);
}

}  // namespace tern::auth
