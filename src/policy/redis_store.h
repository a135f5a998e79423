// RedisPolicyStore: rate allowances and greylist state shared by every Tern node that uses the
// same Redis server, each operation one atomic Lua script. When Redis cannot be reached or does
// not answer in time, the operation is judged by the local store instead (never passed
// unjudged): a warning once per outage, a line when Redis answers again.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log/logger.h"
#include "policy/local_store.h"
#include "policy/policy_store.h"
#include "policy/redis_client.h"

namespace tern::policy {

struct RedisStoreOptions {
    RedisOptions redis;
    std::string key_prefix = "tern:";         // before every key, so that Redis can be shared
    std::optional<GreylistOptions> greylist;  // none = every greylist() attempt passes
};

class RedisPolicyStore : public PolicyStore {
  public:
    // The connection lives on `executor`; `local` judges when Redis does not answer.
    RedisPolicyStore(boost::asio::any_io_executor executor, RedisStoreOptions options,
                     std::shared_ptr<PolicyStore> local, log::Logger& log);

    boost::asio::awaitable<bool> take(std::string key, Rate rate, Clock::time_point now,
                                      std::uint64_t n = 1) override;
    boost::asio::awaitable<GreylistDecision> greylist(std::string client_ip, std::string sender,
                                                      std::string recipient,
                                                      Clock::time_point now) override;

    // Whether the last operation was judged by Redis (for tests and the bench).
    bool reachable() const { return !down_; }

  private:
    // EVALSHA, and EVAL when the server does not know the script yet (NOSCRIPT).
    boost::asio::awaitable<Result<resp::Value>> eval(std::string_view script,
                                                     const std::string& sha,
                                                     std::vector<std::string> keys_and_args,
                                                     std::size_t keys);
    void went_down(const std::string& why);
    void came_back();

    RedisStoreOptions options_;
    RedisClient client_;
    std::shared_ptr<PolicyStore> local_;
    log::Logger& log_;
    std::string take_sha_;
    std::string greylist_sha_;
    std::atomic<bool> down_{false};
};

// The SHA-1 of `text` in lower-case hex, as EVALSHA names a script.
std::string script_sha1(std::string_view text);

}  // namespace tern::policy
