// MxResolver: MX lookup, null MX, implicit MX, and address lookups of each exchange, with
// SERVFAIL and timeouts temporary (4.4.3) and NXDOMAIN permanent (5.1.2).
#include "dns/mx_resolver.h"

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace tern::dns {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

std::vector<MxRecord> order_mx(std::vector<MxRecord> records, std::mt19937& rng) {
    bool only_null =
        !records.empty() && std::all_of(records.begin(), records.end(),
                                        [](const MxRecord& r) { return r.exchange.empty(); });
    if (only_null) return {};
    std::erase_if(records, [](const MxRecord& r) { return r.exchange.empty(); });
    std::shuffle(records.begin(), records.end(), rng);
    std::stable_sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
        return a.preference < b.preference;
    });
    return records;
}

asio::awaitable<std::expected<MxHost, MxError>> MxResolver::resolve_host(std::string host) {
    MxHost out;
    out.name = host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        out.addresses.push_back(host.substr(1, host.size() - 2));
        if (out.addresses.back().rfind("IPv6:", 0) == 0) out.addresses.back().erase(0, 5);
        co_return out;
    }
    auto [v6, v4] = co_await (resolver_.query(host, RecordType::kAaaa) &&
                              resolver_.query(host, RecordType::kA));
    for (const auto& rd : v6.rdata)
        if (auto a = parse_aaaa(rd)) out.addresses.push_back(*a);
    for (const auto& rd : v4.rdata)
        if (auto a = parse_a(rd)) out.addresses.push_back(*a);
    out.secure = (v6.status != Answer::Status::kTempFail && v6.secure) &&
                 (v4.status != Answer::Status::kTempFail && v4.secure);
    for (const auto* a : {&v6, &v4})
        if (out.canonical.empty() && !a->rdata.empty() && a->canonical != normalize_name(host))
            out.canonical = a->canonical;
    if (!out.addresses.empty()) co_return out;
    if (v6.status == Answer::Status::kTempFail || v4.status == Answer::Status::kTempFail) {
        const std::string& why = v4.status == Answer::Status::kTempFail ? v4.why : v6.why;
        co_return std::unexpected(
            MxError{false, "4.4.3", "address lookup of " + host + " failed: " + why});
    }
    co_return std::unexpected(
        MxError{true, "5.4.4", "host " + host + " has no address (A/AAAA) records"});
}

asio::awaitable<std::expected<MxResult, MxError>> MxResolver::resolve(std::string domain) {
    domain = normalize_name(domain);
    auto mx = co_await resolver_.query(domain, RecordType::kMx);
    if (mx.status == Answer::Status::kTempFail)
        co_return std::unexpected(
            MxError{false, "4.4.3", "MX lookup of " + domain + " failed: " + mx.why});
    if (mx.status == Answer::Status::kNxDomain)
        co_return std::unexpected(
            MxError{true, "5.1.2", "domain " + domain + " does not exist (NXDOMAIN)"});
    MxResult result;
    result.mx_secure = mx.secure;
    std::vector<MxRecord> records;
    for (const auto& rd : mx.rdata)
        if (auto r = parse_mx(rd)) records.push_back(std::move(*r));
    if (mx.status == Answer::Status::kOk && records.empty())
        co_return std::unexpected(
            MxError{false, "4.4.3", "MX records of " + domain + " are malformed"});
    if (records.empty()) {
        // No MX: the domain itself is the implicit MX (RFC 5321 section 5.1).
        result.implicit = true;
        records.push_back(MxRecord{0, domain});
    } else {
        thread_local std::mt19937 rng{std::random_device{}()};
        records = order_mx(std::move(records), rng);
        if (records.empty())
            co_return std::unexpected(MxError{
                true, "5.1.10", "domain " + domain + " does not accept mail (null MX, RFC 7505)"});
    }
    std::optional<MxError> temporary;
    std::optional<MxError> last;
    for (const auto& r : records) {
        auto host = co_await resolve_host(r.exchange);
        if (!host) {
            if (!host.error().permanent) temporary = host.error();
            last = host.error();
            continue;
        }
        host->preference = r.preference;
        host->secure = host->secure && mx.secure;
        result.hosts.push_back(std::move(*host));
    }
    if (!result.hosts.empty()) co_return result;
    if (temporary) co_return std::unexpected(*temporary);
    if (result.implicit)
        co_return std::unexpected(
            MxError{true, "5.1.2", "domain " + domain + " has no MX or address records"});
    co_return std::unexpected(last.value_or(
        MxError{true, "5.4.4", "no mail exchanger of " + domain + " has an address"}));
}

asio::awaitable<std::expected<TlsaResult, MxError>> MxResolver::resolve_tlsa(std::string host,
                                                                             std::uint16_t port) {
    std::string name = "_" + std::to_string(port) + "._tcp." + normalize_name(host);
    auto answer = co_await resolver_.query(name, RecordType::kTlsa);
    if (answer.status == Answer::Status::kTempFail)
        co_return std::unexpected(
            MxError{false, "4.7.5", "TLSA lookup of " + name + " failed: " + answer.why});
    TlsaResult result;
    result.secure = answer.secure;
    for (const auto& rd : answer.rdata) {
        auto r = parse_tlsa(rd);
        // A malformed record in a signed answer cannot be ignored safely (RFC 7672 2.2).
        if (!r)
            co_return std::unexpected(MxError{false, "4.7.5", "malformed TLSA record at " + name});
        result.records.push_back(std::move(*r));
    }
    co_return result;
}

asio::awaitable<std::expected<std::vector<std::string>, MxError>> MxResolver::resolve_txt(
    std::string name) {
    auto answer = co_await resolver_.query(normalize_name(name), RecordType::kTxt);
    if (answer.status == Answer::Status::kTempFail)
        co_return std::unexpected(
            MxError{false, "4.4.3", "TXT lookup of " + name + " failed: " + answer.why});
    std::vector<std::string> out;
    for (const auto& rd : answer.rdata)
        if (auto t = parse_txt(rd)) out.push_back(std::move(*t));
    co_return out;
}

}  // namespace tern::dns
