// Resolver: libunbound in threaded async mode. Its result pipe (ub_fd) is watched on the home
// loop; ub_process() runs the callbacks there, which keep each answer in the cache for its TTL
// and hand it back to the caller's loop.
#include "dns/resolver.h"

#include <unbound.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <functional>

namespace tern::dns {
namespace asio = boost::asio;

struct Resolver::Pending {
    Resolver* owner = nullptr;
    std::string name;
    RecordType type;
    int async_id = 0;
    bool done = false;
    std::unique_ptr<asio::steady_timer> timer;
    std::move_only_function<void(Answer)> complete;  // posts to the caller's executor
    std::shared_ptr<Pending> self;                   // keeps this alive while libunbound holds it
};

Resolver::Resolver(asio::io_context& home, ub_ctx* ctx, ResolverOptions options)
    : home_(home),
      ctx_(ctx),
      options_(std::move(options)),
      cache_(options_.cache_entries, options_.cache_max_ttl),
      watch_(home) {
    if (options_.metrics)
        queries_ = &options_.metrics->counter(
            "tern_dns_queries_total",
            "DNS questions by result: ok, nodata, nxdomain, cached (answered from the cache), "
            "and the failures servfail (an error rcode), bogus (DNSSEC), timeout, error.",
            {"result"});
}

void Resolver::count(std::string_view result) {
    if (queries_) queries_->counter({std::string(result)}).add();
}

Result<std::unique_ptr<Resolver>> Resolver::create(asio::io_context& home,
                                                   ResolverOptions options) {
    ub_ctx* ctx = ub_ctx_create();
    if (!ctx) return fail(ErrorCode::kIo, "cannot create the DNS resolver");
    auto check = [&](int rc, std::string what) -> Result<void> {
        if (rc == 0) return {};
        ub_ctx_delete(ctx);
        return fail(ErrorCode::kInvalid, what + ": " + ub_strerror(rc));
    };
    // Threads, not a forked process: the daemon is multi-threaded.
    if (auto r = check(ub_ctx_async(ctx, 1), "dns async mode"); !r)
        return std::unexpected(r.error());
    if (options.upstream.empty()) {
        if (auto r = check(ub_ctx_resolvconf(ctx, nullptr), "reading /etc/resolv.conf"); !r)
            return std::unexpected(r.error());
    } else {
        // Test and split-horizon servers often live on loopback, which libunbound skips by default.
        // They also serve the reverse zones of private and documentation address space, which
        // libunbound would otherwise answer itself with NXDOMAIN (RFC 6303): SPF's ptr and %{p}
        // need the PTR records of such clients from the configured server.
        for (auto [option, value] :
             {std::pair{"do-not-query-localhost:", "no"}, std::pair{"unblock-lan-zones:", "yes"},
              std::pair{"insecure-lan-zones:", "yes"}})
            if (auto r = check(ub_ctx_set_option(ctx, option, value),
                               std::string("dns option ") + option);
                !r)
                return std::unexpected(r.error());
        for (const auto& up : options.upstream)
            if (auto r = check(ub_ctx_set_fwd(ctx, up.c_str()), "dns upstream " + up); !r)
                return std::unexpected(r.error());
    }
    if (!options.trust_anchor_file.empty()) {
        // libunbound reads the file only at the first query; a missing one is said now.
        if (::access(options.trust_anchor_file.c_str(), R_OK) != 0) {
            int err = errno;
            ub_ctx_delete(ctx);
            return std::unexpected(
                Error::from_errno(err, "dns trust anchor " + options.trust_anchor_file));
        }
        if (auto r = check(ub_ctx_add_ta_file(ctx, options.trust_anchor_file.c_str()),
                           "dns trust anchor " + options.trust_anchor_file);
            !r)
            return std::unexpected(r.error());
    }
    // Answers are small and must be fresh in tests; keep libunbound's own retries short.
    ub_ctx_set_option(ctx, "outgoing-range:", "256");
    std::unique_ptr<Resolver> resolver(new Resolver(home, ctx, std::move(options)));
    int fd = ub_fd(ctx);
    if (fd < 0) {
        return fail(ErrorCode::kIo, "dns: no result descriptor");
    }
    resolver->watch_.assign(::dup(fd));
    resolver->start_watch();
    return resolver;
}

Resolver::~Resolver() {
    boost::system::error_code ec;
    watch_.close(ec);
    ub_ctx_delete(ctx_);
}

void Resolver::stop() {
    asio::post(home_, [this] {
        stopped_ = true;
        boost::system::error_code ec;
        watch_.cancel(ec);
    });
}

void Resolver::start_watch() {
    watch_.async_wait(asio::posix::stream_descriptor::wait_read,
                      [this](boost::system::error_code ec) {
                          if (ec || stopped_) return;
                          ub_process(ctx_);
                          start_watch();
                      });
}

void Resolver::on_result(void* data, int err, ub_result* result) {
    auto* raw = static_cast<Pending*>(data);
    std::shared_ptr<Pending> pending = std::move(raw->self);
    Answer answer;
    if (err != 0 || !result) {
        answer.why = std::string("resolver error: ") + ub_strerror(err);
    } else if (result->bogus) {
        answer.why = std::string("DNSSEC validation failed: ") +
                     (result->why_bogus ? result->why_bogus : "bogus");
    } else if (result->rcode == 3 /* NXDOMAIN */) {
        answer.status = Answer::Status::kNxDomain;
        answer.secure = result->secure != 0;
    } else if (result->rcode != 0) {
        answer.why = "DNS server answered rcode " + std::to_string(result->rcode);
    } else {
        answer.secure = result->secure != 0;
        answer.canonical = normalize_name(result->canonname ? result->canonname : pending->name);
        if (result->havedata) {
            answer.status = Answer::Status::kOk;
            for (int i = 0; result->data[i]; ++i)
                answer.rdata.emplace_back(result->data[i],
                                          static_cast<std::size_t>(result->len[i]));
        } else {
            answer.status = Answer::Status::kNoData;
        }
    }
    // The TTL libunbound gives: the records' (the smallest), or for a negative answer the SOA's.
    if (result)
        pending->owner->cache_.store(pending->name, pending->type, answer,
                                     std::chrono::seconds(result->ttl), AnswerCache::Clock::now());
    if (result) ub_resolve_free(result);
    if (pending->done) return;
    pending->owner->count(answer.status == Answer::Status::kOk         ? "ok"
                          : answer.status == Answer::Status::kNoData   ? "nodata"
                          : answer.status == Answer::Status::kNxDomain ? "nxdomain"
                          : err != 0 || !result                        ? "error"
                          : answer.why.starts_with("DNSSEC")           ? "bogus"
                                                                       : "servfail");
    pending->done = true;
    if (pending->timer) pending->timer->cancel();
    pending->complete(std::move(answer));
}

void Resolver::submit(std::shared_ptr<Pending> pending) {
    if (stopped_) {
        pending->done = true;
        pending->complete(Answer{Answer::Status::kTempFail, false, {}, {}, "resolver stopped"});
        return;
    }
    pending->self = pending;
    int rc = ub_resolve_async(ctx_, pending->name.c_str(), static_cast<int>(pending->type),
                              1 /* IN */, pending.get(), &Resolver::on_result, &pending->async_id);
    if (rc != 0) {
        pending->self.reset();
        pending->done = true;
        pending->complete(Answer{
            Answer::Status::kTempFail, false, {}, {}, std::string("resolver: ") + ub_strerror(rc)});
        return;
    }
    pending->timer = std::make_unique<asio::steady_timer>(home_, options_.timeout);
    pending->timer->async_wait(
        [this, weak = std::weak_ptr<Pending>(pending)](boost::system::error_code ec) {
            auto p = weak.lock();
            if (ec || !p || p->done) return;
            p->done = true;
            ub_cancel(ctx_, p->async_id);  // libunbound will not call back for it any more
            auto keep = std::move(p->self);
            count("timeout");
            p->complete(Answer{Answer::Status::kTempFail, false, {}, {}, "DNS query timed out"});
        });
}

asio::awaitable<Answer> Resolver::query(std::string name, RecordType type) {
    if (auto kept = cache_.find(name, type, AnswerCache::Clock::now())) {
        count("cached");
        co_return std::move(*kept);
    }
    auto pending = std::make_shared<Pending>();
    pending->owner = this;
    pending->name = std::move(name);
    pending->type = type;
    // Named, not a temporary inside co_await: g++ 12 destroys such temporaries twice.
    auto initiate = [this, pending](auto handler) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        pending->complete = [h = std::move(handler), w = std::move(work)](Answer a) mutable {
            auto ex = w.get_executor();
            asio::post(
                ex, [h = std::move(h), a = std::move(a)]() mutable { std::move(h)(std::move(a)); });
            w.reset();
        };
        asio::post(home_, [this, pending] { submit(pending); });
    };
    pending.reset();
    Answer answer = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Answer)>(
        std::move(initiate), asio::use_awaitable);
    co_return answer;
}

}  // namespace tern::dns
