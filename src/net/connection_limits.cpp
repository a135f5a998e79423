// ConnectionLimits: the shared counters behind limits.connections and
// limits.connections_per_client.
#include "net/connection_limits.h"

namespace tern::net {

ConnectionLimits::Verdict ConnectionLimits::acquire(const std::string& client, Slot& slot) {
    std::lock_guard lock(mutex_);
    if (total_ >= max_total_) return Verdict::kTooManyTotal;
    auto& count = per_client_[client];
    if (count >= max_per_client_) {
        if (count == 0) per_client_.erase(client);
        return Verdict::kTooManyFromClient;
    }
    ++count;
    ++total_;
    slot = Slot(this, client);
    return Verdict::kAccepted;
}

void ConnectionLimits::release(const std::string& client) {
    std::lock_guard lock(mutex_);
    --total_;
    auto it = per_client_.find(client);
    if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

std::size_t ConnectionLimits::open() const {
    std::lock_guard lock(mutex_);
    return total_;
}

void ConnectionLimits::set_limits(std::size_t max_total, std::size_t max_per_client) {
    std::lock_guard lock(mutex_);
    max_total_ = max_total;
    max_per_client_ = max_per_client;
}

}  // namespace tern::net
