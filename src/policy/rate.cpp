// Rate limits: parsing "N/period" and the in-memory GCRA store.
#include "policy/rate.h"

#include <charconv>

#include "base/text.h"

namespace tern::policy {
namespace {

std::optional<std::chrono::seconds> parse_period(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t unit = 1;
    switch (s.back()) {
        case 's':
            s.remove_suffix(1);
            break;
        case 'm':
            unit = 60;
            s.remove_suffix(1);
            break;
        case 'h':
            unit = 3600;
            s.remove_suffix(1);
            break;
        case 'd':
            unit = 86400;
            s.remove_suffix(1);
            break;
        default:
            break;
    }
    std::uint64_t v = 0;
    if (s.empty())
        v = 1;  // "1/m" is one per minute
    else {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    }
    if (v == 0 || v > 366 * 86400 / unit) return std::nullopt;
    return std::chrono::seconds(v * unit);
}

}  // namespace

std::string Rate::describe() const {
    auto s = period.count();
    std::string p = s % 86400 == 0  ? std::to_string(s / 86400) + "d"
                    : s % 3600 == 0 ? std::to_string(s / 3600) + "h"
                    : s % 60 == 0   ? std::to_string(s / 60) + "m"
                                    : std::to_string(s) + "s";
    return std::to_string(count) + " per " + p;
}

std::optional<Rate> parse_rate(std::string_view text, std::string* why) {
    text = trim_blanks(text);
    if (text.empty() || text == "0") return Rate{};
    auto slash = text.find('/');
    std::uint64_t count = 0;
    std::string_view n = trim_blanks(text.substr(0, slash));
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), count);
    bool count_ok = ec == std::errc() && p == n.data() + n.size() && !n.empty() && count > 0 &&
                    count <= 1'000'000'000;
    auto period = slash == std::string_view::npos
                      ? std::nullopt
                      : parse_period(trim_blanks(text.substr(slash + 1)));
    if (!count_ok || !period) {
        if (why)
            *why = "\"" + std::string(text) +
                   "\" is not a rate such as \"60/1m\", \"1000/1h\" or \"0\" (no limit)";
        return std::nullopt;
    }
    return Rate{count, *period};
}

bool MemoryRateStore::take_now(const std::string& key, Rate rate, Clock::time_point now,
                               std::uint64_t n) {
    if (rate.off()) return true;
    // GCRA: each request moves the theoretical arrival time on by period/count; a request
    // that would put it more than one period ahead of now is over the rate.
    // In microseconds, as the Redis store's script counts (redis_scripts.cpp).
    auto period = std::chrono::duration_cast<Clock::duration>(rate.period);
    auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(
        std::chrono::duration_cast<std::chrono::microseconds>(rate.period).count() /
        static_cast<std::int64_t>(rate.count)));
    std::lock_guard lock(mutex_);
    if (tat_.size() >= prune_at_) prune(now);
    auto [it, fresh] = tat_.try_emplace(key, now);
    auto tat = std::max(it->second, now);
    auto next = tat + interval * static_cast<Clock::rep>(n);
    if (next - now > period) {
        if (fresh) tat_.erase(it);
        return false;
    }
    it->second = next;
    return true;
}

std::size_t MemoryRateStore::size() const {
    std::lock_guard lock(mutex_);
    return tat_.size();
}

void MemoryRateStore::prune(Clock::time_point now) {
    std::erase_if(tat_, [now](const auto& kv) { return kv.second <= now; });
    prune_at_ = std::max<std::size_t>(1024, tat_.size() * 2);
}

}  // namespace tern::policy
