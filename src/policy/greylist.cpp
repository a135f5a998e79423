// Greylisting: the decision rule, and the triplets in memory keyed by client network, sender
// and recipient (lower case), with the set of entries changed since they were last written.
#include "policy/greylist.h"

#include <boost/asio/ip/address.hpp>

#include "base/text.h"

namespace tern::policy {

std::string client_network(std::string_view client_ip) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(client_ip), ec);
    if (ec) return std::string(client_ip);
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    if (address.is_v4()) {
        auto b = address.to_v4().to_bytes();
        b[3] = 0;
        return boost::asio::ip::address_v4(b).to_string() + "/24";
    }
    auto b = address.to_v6().to_bytes();
    for (int i = 8; i < 16; ++i)
        b[i] = 0;
    return boost::asio::ip::address_v6(b).to_string() + "/64";
}

std::string triplet_key(std::string_view network, std::string_view sender,
                        std::string_view recipient) {
    return std::string(network) + " " + ascii_lower(sender) + " " + ascii_lower(recipient);
}

GreylistDecision judge_attempt(const GreylistOptions& options,
                               std::optional<GreylistTriplet>& triplet, GreylistPasses& passes,
                               GreylistClock::time_point now) {
    if (passes.count != 0 && now - passes.last > options.max_age) passes = {};
    if (options.auto_allowlist != 0 && passes.count >= options.auto_allowlist)
        return {true, {}, "allowlisted"};
    if (triplet && triplet->passed) {
        if (now - triplet->last_seen <= options.max_age) {
            triplet->last_seen = now;
            return {true, {}, "known"};
        }
        triplet.reset();  // forgotten: new again
    } else if (triplet && now - triplet->first_seen > options.retry_window) {
        triplet.reset();
    }
    if (!triplet) {
        triplet = GreylistTriplet{now, now, false};
        return {false, options.delay, "new"};
    }
    auto age = now - triplet->first_seen;
    if (age < options.delay)
        return {false, std::chrono::ceil<std::chrono::seconds>(options.delay - age), "early"};
    triplet->passed = true;
    triplet->last_seen = now;
    ++passes.count;
    passes.last = now;
    return {true, {}, "passed"};
}

Greylist::Decision Greylist::check(std::string_view client_ip, std::string_view sender,
                                   std::string_view recipient, Clock::time_point now) {
    std::string net = client_network(client_ip);
    std::string key = triplet_key(net, sender, recipient);
    std::lock_guard lock(mutex_);
    if (triplets_.size() + passes_.size() >= prune_at_) prune_locked(now);
    auto p = passes_.find(net);
    GreylistPasses passes = p == passes_.end() ? GreylistPasses{} : p->second;
    if (options_.auto_allowlist != 0 && passes.count >= options_.auto_allowlist &&
        now - passes.last <= options_.max_age)
        return {true, {}, "allowlisted"};  // the common case of a big sender: nothing written
    auto t = triplets_.find(key);
    std::optional<GreylistTriplet> triplet;
    if (t != triplets_.end()) triplet = t->second;
    auto d = judge_attempt(options_, triplet, passes, now);
    triplets_[key] = *triplet;
    dirty_triplets_.insert(key);
    if (passes.count != 0) {
        passes_[net] = passes;
        dirty_passes_.insert(net);
    }
    return d;
}

std::size_t Greylist::size() const {
    std::lock_guard lock(mutex_);
    return triplets_.size();
}

bool Greylist::expired(const GreylistTriplet& t, Clock::time_point now) const {
    return t.passed ? now - t.last_seen > options_.max_age
                    : now - t.first_seen > options_.retry_window;
}

void Greylist::restore(std::string key, GreylistTriplet triplet, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (expired(triplet, now)) {
        dirty_triplets_.insert(std::move(key));
        return;
    }
    triplets_[key] = triplet;
}

void Greylist::restore_passes(std::string network, GreylistPasses passes, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (now - passes.last > options_.max_age) {
        dirty_passes_.insert(std::move(network));
        return;
    }
    passes_[network] = passes;
}

GreylistChanges Greylist::take_changes() {
    GreylistChanges out;
    std::lock_guard lock(mutex_);
    for (auto& key : dirty_triplets_) {
        auto it = triplets_.find(key);
        if (it == triplets_.end())
            out.gone_triplets.push_back(key);
        else
            out.triplets.emplace_back(key, it->second);
    }
    for (auto& net : dirty_passes_) {
        auto it = passes_.find(net);
        if (it == passes_.end())
            out.gone_passes.push_back(net);
        else
            out.passes.emplace_back(net, it->second);
    }
    dirty_triplets_.clear();
    dirty_passes_.clear();
    return out;
}

void Greylist::prune(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    prune_locked(now);
}

void Greylist::prune_locked(Clock::time_point now) {
    std::erase_if(triplets_, [&](const auto& kv) {
        if (!expired(kv.second, now)) return false;
        dirty_triplets_.insert(kv.first);
        return true;
    });
    std::erase_if(passes_, [&](const auto& kv) {
        if (now - kv.second.last <= options_.max_age) return false;
        dirty_passes_.insert(kv.first);
        return true;
    });
    prune_at_ = std::max<std::size_t>(4096, (triplets_.size() + passes_.size()) * 2);
}

}  // namespace tern::policy
