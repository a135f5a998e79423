// Resolver: the one asynchronous DNS resolver of the daemon (libunbound, validating). Queries
// may come from any event loop; the answer, with its DNSSEC status, comes back on the caller's:
// from the process's answer cache at once when it holds the answer, else through libunbound.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "dns/answer.h"
#include "dns/answer_cache.h"
#include "dns/records.h"
#include "metrics/metrics.h"

struct ub_ctx;
struct ub_result;

namespace tern::dns {

struct ResolverOptions {
    std::vector<std::string> upstream;  // "ip" or "ip@port"; empty = the system's resolv.conf
    std::string trust_anchor_file;      // DS/DNSKEY records to validate with; empty = none
    std::chrono::seconds timeout{30};   // per query, after which the answer is kTempFail
    std::size_t cache_entries = 10000;  // answers kept in the process (AnswerCache); 0 = none
    std::chrono::seconds cache_max_ttl{3600};  // longest an answer is kept, whatever its TTL
    metrics::Registry* metrics = nullptr;      // counts queries by result for /metrics; null: none
};

class Resolver {
  public:
    // Creates the libunbound context; its answers are processed on `home`.
    static Result<std::unique_ptr<Resolver>> create(boost::asio::io_context& home,
                                                    ResolverOptions options);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Looks up `name` for records of `type`. Never blocks the calling loop.
    boost::asio::awaitable<Answer> query(std::string name, RecordType type);

    // Stops watching the resolver's descriptor so the loop can end; pending queries fail.
    void stop();

  private:
    struct Pending;
    Resolver(boost::asio::io_context& home, ub_ctx* ctx, ResolverOptions options);
    void start_watch();
    void submit(std::shared_ptr<Pending> pending);
    static void on_result(void* data, int err, ::ub_result* result);
    void count(std::string_view result);

    boost::asio::io_context& home_;
    ub_ctx* ctx_;
    ResolverOptions options_;
    AnswerCache cache_;
    boost::asio::posix::stream_descriptor watch_;
    bool stopped_ = false;
    metrics::Family* queries_ = nullptr;  // tern_dns_queries_total{result}
};

}  // namespace tern::dns
