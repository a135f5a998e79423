// MtaStsCache: RFC 8461 section 3.3 (fetching over HTTPS: no redirects, text/plain, 200 only) and
// section 5 (caching; a failed refresh keeps the cached policy). Runs on the caller's loop.
#include "tls/mta_sts_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <sstream>

#include "base/text.h"

namespace tern::tls {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxPolicyBody = 64 * 1024;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Only names that are safe as file names are cached on disk.
bool safe_file_name(const std::string& domain) {
    if (domain.empty() || domain.size() > 253 || domain[0] == '.') return false;
    for (char c : domain)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
    return true;
}

}  // namespace

MtaStsCache::MtaStsCache(dns::MxResolver& dns, ClientContext& tls, MtaStsOptions options,
                         log::Logger& log)
    : dns_(dns), tls_(tls), options_(std::move(options)), log_(log) {
    if (!options_.cache_dir.empty()) ::mkdir(options_.cache_dir.c_str(), 0700);
}

std::optional<MtaStsCache::Cached> MtaStsCache::cached(const std::string& domain) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = cache_.find(domain); it != cache_.end()) {
            if (it->second.expires > unix_now()) return it->second;
            cache_.erase(it);
            return std::nullopt;
        }
    }
    // A policy fetched before a restart: "<id>\n<expires>\n<policy text>".
    if (options_.cache_dir.empty() || !safe_file_name(domain)) return std::nullopt;
    std::ifstream in(options_.cache_dir + "/" + domain);
    if (!in) return std::nullopt;
    Cached c;
    std::string expires;
    if (!std::getline(in, c.id) || !std::getline(in, expires)) return std::nullopt;
    std::stringstream rest;
    rest << in.rdbuf();
    auto policy = parse_sts_policy(rest.str());
    try {
        c.expires = std::stoll(expires);
    } catch (...) {
        return std::nullopt;
    }
    if (!policy || c.expires <= unix_now()) return std::nullopt;
    c.policy = std::move(*policy);
    std::lock_guard lock(mutex_);
    cache_[domain] = c;
    return c;
}

void MtaStsCache::store(const std::string& domain, const Cached& entry, std::string_view text) {
    {
        std::lock_guard lock(mutex_);
        cache_[domain] = entry;
    }
    if (options_.cache_dir.empty() || !safe_file_name(domain)) return;
    // Written whole to a temporary name and renamed, so a crash never leaves half a policy.
    std::string path = options_.cache_dir + "/" + domain;
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << entry.id << "\n" << entry.expires << "\n" << text;
        if (!out) return;
    }
    ::rename(tmp.c_str(), path.c_str());
}

asio::awaitable<std::optional<StsPolicy>> MtaStsCache::policy_for(std::string domain) {
    domain = ascii_lower(domain);
    auto have = cached(domain);
    auto txt = co_await dns_.resolve_txt("_mta-sts." + domain);
    std::optional<std::string> id;
    int records = 0;
    if (txt) {
        for (const auto& t : *txt) {
            if (auto i = parse_sts_record(t)) {
                id = i;
                ++records;
            }
        }
    }
    // RFC 8461 3.1: more than one record is as good as none.
    if (records != 1) id.reset();
    if (!id || (have && have->id == *id)) {
        if (have) co_return have->policy;
        co_return std::nullopt;
    }
    auto body = co_await fetch(domain);
    if (!body) {
        log_.warn("mta_sts", {{"domain", domain}, {"error", body.error()}});
        if (have) co_return have->policy;
        co_return std::nullopt;
    }
    auto policy = parse_sts_policy(*body);
    if (!policy) {
        log_.warn("mta_sts", {{"domain", domain}, {"error", "bad policy: " + policy.error()}});
        if (have) co_return have->policy;
        co_return std::nullopt;
    }
    Cached entry{*policy, *id, unix_now() + policy->max_age};
    store(domain, entry, *body);
    log_.info("mta_sts", {{"domain", domain},
                          {"id", *id},
                          {"mode", mode_name(policy->mode)},
                          {"max_age", policy->max_age}});
    co_return *policy;
}

asio::awaitable<std::expected<std::string, std::string>> MtaStsCache::fetch(std::string domain) {
    std::string host = "mta-sts." + domain;
    auto addresses = co_await dns_.resolve_host(host);
    if (!addresses) co_return std::unexpected(addresses.error().text);
    auto ex = co_await asio::this_coro::executor;
    std::string last = "no address";
    for (const auto& a : addresses->addresses) {
        boost::system::error_code ec;
        auto address = asio::ip::make_address(a, ec);
        if (ec) continue;
        // The watchdog closes the socket when the time is up; every operation then fails.
        auto stream = std::make_shared<asio::ssl::stream<tcp::socket>>(ex, tls_.context());
        auto watchdog = std::make_shared<asio::steady_timer>(ex, options_.fetch_timeout);
        watchdog->async_wait([stream, watchdog](boost::system::error_code e) {
            if (!e) stream->lowest_layer().close();
        });
        struct Cancel {
            std::shared_ptr<asio::steady_timer> t;
            ~Cancel() { t->cancel(); }
        } cancel{watchdog};
        auto [cec] = co_await stream->lowest_layer().async_connect(
            tcp::endpoint(address, options_.port), asio::as_tuple(asio::use_awaitable));
        if (cec) {
            last = "connect to " + host + "[" + a + "]: " + cec.message();
            continue;
        }
        PeerRequirement need;
        need.level = Level::kVerify;
        need.sni = host;
        need.names = {host};
        need.source = "mta-sts";
        if (auto r = tls_.prepare(stream->native_handle(), need); !r) {
            last = r.error().message;
            continue;
        }
        auto [hec] = co_await stream->async_handshake(asio::ssl::stream_base::client,
                                                      asio::as_tuple(asio::use_awaitable));
        if (hec) {
            last = "TLS with " + host + ": " + hec.message();
            continue;
        }
        auto session = tls_.inspect(stream->native_handle(), need);
        if (!session.verified) {
            // RFC 8461 3.3: the policy host's certificate must be valid for its name.
            last = "certificate of " + host + " not valid: " + session.verify_error;
            continue;
        }
        http::request<http::empty_body> req{http::verb::get, "/.well-known/mta-sts.txt", 11};
        req.set(http::field::host, host);
        req.set(http::field::user_agent, "Tern");
        req.set(http::field::connection, "close");
        auto [wec, wn] =
            co_await http::async_write(*stream, req, asio::as_tuple(asio::use_awaitable));
        if (wec) {
            last = "sending the request to " + host + ": " + wec.message();
            continue;
        }
        boost::beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxPolicyBody);
        parser.header_limit(16 * 1024);
        auto [rec, rn] =
            co_await http::async_read(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (rec) {
            last = "reading the policy from " + host + ": " + rec.message();
            continue;
        }
        const auto& res = parser.get();
        if (res.result() != http::status::ok)
            co_return std::unexpected("policy host " + host + " answered HTTP " +
                                      std::to_string(res.result_int()));
        std::string type = ascii_lower(std::string(res[http::field::content_type]));
        if (type.rfind("text/plain", 0) != 0)
            co_return std::unexpected("policy of " + host + " is not text/plain");
        co_return res.body();
    }
    co_return std::unexpected(last);
}

}  // namespace tern::tls
