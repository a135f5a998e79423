// MtaStsCache: finds the MTA-STS policy (RFC 8461) of a recipient domain: the _mta-sts TXT
// record through the resolver, the policy file over HTTPS (PKIX-verified), cached in memory and
// on disk until max_age runs out, and refreshed when the record's id changes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "dns/mx_resolver.h"
#include "log/logger.h"
#include "tls/client_context.h"
#include "tls/mta_sts.h"

namespace tern::tls {

struct MtaStsOptions {
    std::string cache_dir;                   // where policies are kept across restarts
    std::uint16_t port = 443;                // of the policy host (RFC 8461: 443)
    std::chrono::seconds fetch_timeout{20};  // the whole HTTPS fetch
};

class MtaStsCache {
  public:
    MtaStsCache(dns::MxResolver& dns, ClientContext& tls, MtaStsOptions options, log::Logger& log);

    // The policy in force for mail to `domain`, or nullopt when it has none (or none could be
    // found and none is cached). Never fails a delivery by itself.
    boost::asio::awaitable<std::optional<StsPolicy>> policy_for(std::string domain);

  private:
    struct Cached {
        StsPolicy policy;
        std::string id;
        std::int64_t expires = 0;  // unix seconds
    };
    boost::asio::awaitable<std::expected<std::string, std::string>> fetch(std::string domain);
    std::optional<Cached> cached(const std::string& domain);
    void store(const std::string& domain, const Cached& entry, std::string_view text);

    dns::MxResolver& dns_;
    ClientContext& tls_;
    MtaStsOptions options_;
    log::Logger& log_;
    std::mutex mutex_;
    std::map<std::string, Cached> cache_;
};

}  // namespace tern::tls
