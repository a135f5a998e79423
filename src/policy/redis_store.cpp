// RedisPolicyStore: keys "<prefix>rate:<key>", "<prefix>grey:<network sender recipient>" and
// "<prefix>pass:<network>", each with a TTL (the rate's period, greylisting's windows), so Redis
// never holds state nobody will read.
#include "policy/redis_store.h"

#include <openssl/evp.h>

#include "base/text.h"
#include "policy/redis_scripts.h"

namespace tern::policy {
namespace {

std::string us(auto duration) {
    return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
}

std::string us_since_epoch(PolicyStore::Clock::time_point t) {
    return us(t.time_since_epoch());
}

// The decision's reason as one of judge_attempt's static strings.
const char* reason(const std::string& why) {
    for (const char* known : {"new", "early", "passed", "known", "allowlisted"})
        if (why == known) return known;
    return "redis";
}

}  // namespace

std::string script_sha1(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
    return hex_lower(std::string_view(reinterpret_cast<const char*>(digest), size));
}

RedisPolicyStore::RedisPolicyStore(boost::asio::any_io_executor executor, RedisStoreOptions options,
                                   std::shared_ptr<PolicyStore> local, log::Logger& log)
    : options_(std::move(options)),
      client_(std::move(executor), options_.redis),
      local_(std::move(local)),
      log_(log),
      take_sha_(script_sha1(redis_scripts::kTake)),
      greylist_sha_(script_sha1(redis_scripts::kGreylist)) {}

boost::asio::awaitable<Result<resp::Value>> RedisPolicyStore::eval(
    std::string_view script, const std::string& sha, std::vector<std::string> keys_and_args,
    std::size_t keys) {
    std::vector<std::string> command;
    command.push_back("EVALSHA");
    command.push_back(sha);
    command.push_back(std::to_string(keys));
    command.insert(command.end(), keys_and_args.begin(), keys_and_args.end());
    auto r = co_await client_.command(command);
    if (!r || r->type != resp::Value::Type::kError || !r->text.starts_with("NOSCRIPT")) co_return r;
    command[0] = "EVAL";
    command[1] = std::string(script);  // runs it and caches it for the next EVALSHA
    co_return co_await client_.command(std::move(command));
}

void RedisPolicyStore::went_down(const std::string& why) {
    if (down_.exchange(true)) return;
    log_.warn("policy_store_down", {{"backend", "redis"},
                                    {"address", options_.redis.address},
                                    {"error", why},
                                    {"fallback", "local"}});
}

void RedisPolicyStore::came_back() {
    if (!down_.exchange(false)) return;
    log_.info("policy_store_up", {{"backend", "redis"}, {"address", options_.redis.address}});
}

boost::asio::awaitable<bool> RedisPolicyStore::take(std::string key, Rate rate,
                                                    Clock::time_point now, std::uint64_t n) {
    if (rate.off()) co_return true;
    auto period_us = std::chrono::duration_cast<std::chrono::microseconds>(rate.period).count();
    auto interval_us = period_us / static_cast<std::int64_t>(rate.count);
    std::vector<std::string> keys_and_args;  // built apart: g++ 12 miscompiles a braced list here
    keys_and_args.push_back(options_.key_prefix + "rate:" + key);
    keys_and_args.push_back(us_since_epoch(now));
    keys_and_args.push_back(std::to_string(period_us));
    keys_and_args.push_back(std::to_string(interval_us));
    keys_and_args.push_back(std::to_string(n));
    auto r = co_await eval(redis_scripts::kTake, take_sha_, std::move(keys_and_args), 1);
    std::string why;
    if (!r)
        why = r.error().message;
    else if (r->type != resp::Value::Type::kInteger)
        why = "unexpected reply: " + r->text;
    if (why.empty()) {
        came_back();
        co_return r->integer == 1;
    }
    went_down(why);
    co_return co_await local_->take(std::move(key), rate, now, n);
}

boost::asio::awaitable<GreylistDecision> RedisPolicyStore::greylist(std::string client_ip,
                                                                    std::string sender,
                                                                    std::string recipient,
                                                                    Clock::time_point now) {
    if (!options_.greylist) co_return GreylistDecision{true, {}, "off"};
    const auto& g = *options_.greylist;
    std::string net = client_network(client_ip);
    std::vector<std::string> keys_and_args;
    keys_and_args.push_back(options_.key_prefix + "grey:" + triplet_key(net, sender, recipient));
    keys_and_args.push_back(options_.key_prefix + "pass:" + net);
    keys_and_args.push_back(us_since_epoch(now));
    keys_and_args.push_back(us(g.delay));
    keys_and_args.push_back(us(g.retry_window));
    keys_and_args.push_back(us(g.max_age));
    keys_and_args.push_back(std::to_string(g.auto_allowlist));
    auto r = co_await eval(redis_scripts::kGreylist, greylist_sha_, std::move(keys_and_args), 2);
    std::string why;
    if (!r)
        why = r.error().message;
    else if (r->type != resp::Value::Type::kArray || r->items.size() != 3 ||
             r->items[0].type != resp::Value::Type::kInteger ||
             r->items[1].type != resp::Value::Type::kInteger)
        why = "unexpected reply: " + r->text;
    if (why.empty()) {
        came_back();
        GreylistDecision d;
        d.pass = r->items[0].integer == 1;
        d.wait =
            std::chrono::ceil<std::chrono::seconds>(std::chrono::microseconds(r->items[1].integer));
        d.why = reason(r->items[2].text);
        co_return d;
    }
    went_down(why);
    co_return co_await local_->greylist(std::move(client_ip), std::move(sender),
                                        std::move(recipient), now);
}

}  // namespace tern::policy
