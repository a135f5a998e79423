// Greylisting: triplets in memory, keyed by client network, sender and recipient (lower case).
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

Greylist::Decision Greylist::check(std::string_view client_ip, std::string_view sender,
                                   std::string_view recipient, Clock::time_point now) {
    std::string net = client_network(client_ip);
    std::string key = net + " " + ascii_lower(sender) + " " + ascii_lower(recipient);
    std::lock_guard lock(mutex_);
    if (options_.auto_allowlist != 0) {
        auto p = passes_.find(net);
        if (p != passes_.end() && p->second >= options_.auto_allowlist)
            return {true, {}, "allowlisted"};
    }
    if (triplets_.size() >= prune_at_) prune(now);
    auto [it, fresh] = triplets_.try_emplace(key, Triplet{now, now, false});
    Triplet& t = it->second;
    auto age = now - t.first_seen;
    if (!fresh && t.passed) {
        if (now - t.last_seen <= options_.max_age) {
            t.last_seen = now;
            return {true, {}, "known"};
        }
        t = Triplet{now, now, false};  // forgotten: new again
        fresh = true;
    } else if (!fresh && age > options_.retry_window) {
        t = Triplet{now, now, false};
        fresh = true;
    }
    if (fresh) return {false, options_.delay, "new"};
    if (age < options_.delay) {
        auto left = std::chrono::ceil<std::chrono::seconds>(options_.delay - age);
        return {false, left, "early"};
    }
    t.passed = true;
    t.last_seen = now;
    ++passes_[net];
    return {true, {}, "passed"};
}

std::size_t Greylist::size() const {
    std::lock_guard lock(mutex_);
    return triplets_.size();
}

void Greylist::prune(Clock::time_point now) {
    std::erase_if(triplets_, [&](const auto& kv) {
        const Triplet& t = kv.second;
        return t.passed ? now - t.last_seen > options_.max_age
                        : now - t.first_seen > options_.retry_window;
    });
    prune_at_ = std::max<std::size_t>(4096, triplets_.size() * 2);
}

}  // namespace tern::policy
