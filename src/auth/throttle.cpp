// Throttle bookkeeping: a map from key to a node of a list kept in order of last failure, so
// that eviction of the stalest key and the move of a key to the back are both O(1).
#include "auth/throttle.h"

#include <algorithm>

namespace tern::auth {
namespace {

// Doubling stops long before this; it keeps the shift below from overflowing.
constexpr std::uint32_t kMaxCountedFailures = 32;

std::string_view cut(std::string_view key) {
    return key.substr(0, Throttle::kMaxKeyLength);
}

}  // namespace

std::chrono::milliseconds Throttle::delay_after(std::uint32_t failures) const {
    if (failures == 0) return std::chrono::milliseconds(0);
    auto delay = options_.base_delay;
    for (std::uint32_t i = 1; i < failures && delay < options_.max_delay; ++i)
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

void Throttle::record_failure(std::string_view key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    std::string k(cut(key));
    auto it = index_.find(k);
    if (it == index_.end()) {
        if (options_.max_entries == 0) return;
        while (index_.size() >= options_.max_entries) {
            index_.erase(order_.front().key);
            order_.pop_front();
        }
        order_.push_back(Entry{k, 0, now});
        it = index_.emplace(std::move(k), std::prev(order_.end())).first;
    } else {
        order_.splice(order_.end(), order_, it->second);
    }
    Entry& entry = *it->second;
    if (now - entry.last_failure >= options_.reset_after) entry.failures = 0;
    entry.failures = std::min(entry.failures + 1, kMaxCountedFailures);
    entry.last_failure = now;
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

std::chrono::milliseconds LoginThrottle::wait(std::string_view client, std::string_view account,
                                              Clock::time_point now) const {
    auto w = clients_.wait(client, now);
    if (!account.empty()) w = std::max(w, accounts_.wait(account, now));
    return w;
}

void LoginThrottle::record_failure(std::string_view client, std::string_view account,
                                   Clock::time_point now) {
    clients_.record_failure(client, now);
    if (!account.empty()) accounts_.record_failure(account, now);
}

void LoginThrottle::record_success(std::string_view account) {
    accounts_.record_success(account);
}

}  // namespace tern::auth
