// Pregreet: the clients that passed lately, one lock; entries older than pass_ttl are dropped
// when the map has doubled since the last pruning.
#include "policy/pregreet.h"

namespace tern::policy {

bool Pregreet::applies(std::string_view ip, Clock::time_point now) {
    if (options_.wait.count() == 0 || options_.skip.contains(ip)) return false;
    std::lock_guard lock(mutex_);
    auto it = passed_.find(std::string(ip));
    if (it == passed_.end()) return true;
    if (now - it->second < options_.pass_ttl) return false;
    passed_.erase(it);
    return true;
}

void Pregreet::passed(std::string_view ip, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    passed_[std::string(ip)] = now;
    if (passed_.size() < prune_at_) return;
    std::erase_if(passed_, [&](const auto& e) { return now - e.second >= options_.pass_ttl; });
    prune_at_ = std::max<std::size_t>(4096, passed_.size() * 2);
}

std::size_t Pregreet::remembered() const {
    std::lock_guard lock(mutex_);
    return passed_.size();
}

}  // namespace tern::policy
