// AnswerCache: one map under one mutex (lookups are short; the resolver is shared by every event
// loop); a full cache drops what has expired, then the entries closest to expiry.
#include "dns/answer_cache.h"

#include <algorithm>
#include <vector>

#include "base/text.h"

namespace tern::dns {

std::string AnswerCache::key_of(std::string_view name, RecordType type) {
    while (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    std::string key = ascii_lower(name);
    key += '\0';
    key += std::to_string(static_cast<int>(type));
    return key;
}

std::optional<Answer> AnswerCache::find(std::string_view name, RecordType type,
                                        Clock::time_point now) {
    if (max_entries_ == 0) return std::nullopt;
    std::string key = key_of(name, type);
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires <= now) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.answer;
}

void AnswerCache::store(std::string_view name, RecordType type, const Answer& answer,
                        std::chrono::seconds ttl, Clock::time_point now) {
    if (max_entries_ == 0 || answer.status == Answer::Status::kTempFail ||
        ttl <= std::chrono::seconds::zero())
        return;
    Entry entry{answer, now + std::min(ttl, max_ttl_)};
    std::string key = key_of(name, type);
    std::lock_guard lock(mutex_);
    if (!entries_.contains(key) && entries_.size() >= max_entries_) make_room(now);
    entries_.insert_or_assign(std::move(key), std::move(entry));
}

void AnswerCache::make_room(Clock::time_point now) {
    std::erase_if(entries_, [now](const auto& e) { return e.second.expires <= now; });
    if (entries_.size() < max_entries_) return;
    // Still full: drop the eighth that expires first (at least one), so that a full cache
    // does not sort on every store.
    std::vector<Clock::time_point> expiries;
    expiries.reserve(entries_.size());
    for (const auto& [key, entry] : entries_)
        expiries.push_back(entry.expires);
    std::size_t drop = std::max<std::size_t>(1, entries_.size() / 8);
    std::nth_element(expiries.begin(), expiries.begin() + (drop - 1), expiries.end());
    Clock::time_point cut = expiries[drop - 1];
    std::size_t dropped = 0;
    std::erase_if(entries_, [&](const auto& e) {
        if (dropped >= drop || e.second.expires > cut) return false;
        ++dropped;
        return true;
    });
}

std::size_t AnswerCache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace tern::dns
