// SessionRegistry: the set of open sessions, guarded by a mutex because sessions live on
// different event loops. Each entry posts a stop request to its own loop.
#include "server/server_context.h"

namespace tern::server {

std::string_view listener_name(ListenerKind kind) {
    switch (kind) {
        case ListenerKind::kMx:
            return "smtp";
        case ListenerKind::kSubmission:
            return "submission";
        case ListenerKind::kSubmissions:
            return "submissions";
    }
    return "";
}

std::uint64_t SessionRegistry::add(Stop stop) {
    std::lock_guard lock(mutex_);
    auto key = ++next_;
    sessions_.emplace(key, std::move(stop));
    return key;
}

void SessionRegistry::remove(std::uint64_t key) {
    std::lock_guard lock(mutex_);
    sessions_.erase(key);
}

void SessionRegistry::stop_all() {
    std::lock_guard lock(mutex_);
    for (auto& [key, stop] : sessions_)
        stop();
}

std::size_t SessionRegistry::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace tern::server
