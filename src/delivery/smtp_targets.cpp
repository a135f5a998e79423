// SmtpTransport, targets: the servers to try for a next hop (MX records, a route's host, an
// address literal) without ourselves (RFC 5321 5.1), and what TLS each one requires: the
// configured level, DANE (RFC 7672) and MTA-STS (RFC 8461).
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>

#include "base/text.h"
#include "delivery/smtp_connection.h"
#include "delivery/smtp_transport.h"
#include "dns/records.h"
#include "smtp/client_session.h"
#include "smtp/data_encoder.h"

namespace tern::delivery {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using queue::Outcome;
using queue::RecipientResult;
bool SmtpTransport::is_own(const asio::ip::address& address, std::uint16_t port) const {
    auto routing = routing_.load();
    for (const auto& ep : routing->own_endpoints) {
        if (ep.port() != port) continue;
        if (ep.address() == address) return true;
        // A listener on the wildcard address answers on every local address.
        if (ep.address().is_unspecified() && (address.is_loopback() || address.is_unspecified()))
            return true;
    }
    return false;
}

asio::awaitable<std::expected<std::vector<SmtpTransport::Target>, RecipientResult>>
SmtpTransport::targets_for(const net::NextHop& hop) {
    auto failure = [](const dns::MxError& e) {
        RecipientResult r;
        r.outcome = e.permanent ? Outcome::kFailed : Outcome::kDeferred;
        // RFC 7505 section 4.2: 556 for a domain that publishes a null MX.
        std::string code = e.status == "5.1.10" ? "556" : e.permanent ? "550" : "451";
        r.reply = code + " " + e.status + " " + e.text;
        return std::unexpected(std::move(r));
    };
    std::vector<dns::MxHost> hosts;
    if (hop.mx_lookup) {
        auto mx = co_await mx_.resolve(hop.host);
        if (!mx) co_return failure(mx.error());
        hosts = std::move(mx->hosts);
    } else if (boost::system::error_code ec; asio::ip::make_address(hop.host, ec), !ec) {
        dns::MxHost literal;
        literal.name = hop.host;
        literal.addresses.push_back(hop.host);
        hosts.push_back(std::move(literal));
    } else {
        auto host = co_await mx_.resolve_host(hop.host);
        if (!host) co_return failure(host.error());
        hosts.push_back(std::move(*host));
    }
    // RFC 5321 section 5.1: when this host is one of the exchangers, only those more preferred
    // than it may be tried; none left means the mail would loop back to us.
    std::optional<std::uint16_t> own_preference;
    for (const auto& h : hosts) {
        bool own = ascii_lower(h.name) == ascii_lower(options_.helo_name) && hop.mx_lookup;
        for (const auto& a : h.addresses) {
            boost::system::error_code ec;
            auto address = asio::ip::make_address(a, ec);
            if (!ec && is_own(address, hop.port)) own = true;
        }
        if (own && (!own_preference || h.preference < *own_preference))
            own_preference = h.preference;
    }
    std::vector<Target> targets;
    for (const auto& h : hosts) {
        if (own_preference && h.preference >= *own_preference) continue;
        for (const auto& a : h.addresses)
            targets.push_back(Target{h.name, a, hop.port, h.secure, h.canonical});
    }
    if (targets.empty()) {
        RecipientResult r;
        r.outcome = Outcome::kFailed;
        r.reply = "554 5.4.6 mail for " + hop.host + " loops back to myself";
        co_return std::unexpected(std::move(r));
    }
    co_return targets;
}

asio::awaitable<std::expected<tls::PeerRequirement, std::string>> SmtpTransport::requirement_for(
    tls::Level level, const std::string& domain, const Target& target,
    const std::optional<tls::StsPolicy>& sts, bool policy_waived) {
    tls::PeerRequirement need;
    need.level = tls::Level::kNone;
    if (!tls_) co_return need;
    need.level = level;
    need.source = "policy";
    boost::system::error_code ec;
    asio::ip::make_address(target.host, ec);
    if (ec) need.sni = target.host;  // never an address literal (RFC 6066 3)
    if (need.level == tls::Level::kNone) co_return need;
    // RFC 8689 section 4.2.2: for a TLS-Required: No message the domain's DANE records do not
    // bind (and a failed TLSA lookup must not hold the message up): they are not looked up.
    if (peer()->dane && target.secure && !policy_waived) {
        // RFC 7672 2.2: secure TLSA records make TLS mandatory and decide the certificate;
        // a failed lookup means this server cannot be used now.
        // RFC 7672 2.2.2: behind a secure CNAME the expanded name's TLSA records come first,
        // then the original name's.
        std::vector<std::string> bases;
        if (!target.canonical.empty() && ascii_lower(target.canonical) != ascii_lower(target.host))
            bases.push_back(target.canonical);
        bases.push_back(target.host);
        std::optional<dns::TlsaResult> tlsa;
        for (const auto& base : bases) {
            auto found = co_await mx_.resolve_tlsa(base, target.port);
            if (!found)
                co_return std::unexpected("451 " + found.error().status + " " + found.error().text);
            tlsa = std::move(*found);
            if (tlsa->secure && !tlsa->records.empty()) break;
        }
        if (tlsa && tlsa->secure && !tlsa->records.empty()) {
            auto usable = tls::usable_tlsa(tlsa->records);
            if (!usable.empty()) {
                need.level = tls::Level::kDane;
                need.tlsa = std::move(usable);
                // DANE-TA names (RFC 7672 3.2.3): the MX host, its CNAME target, the domain.
                for (const auto& n : {target.host, target.canonical, domain}) {
                    std::string name = ascii_lower(n);
                    if (!name.empty() &&
                        std::find(need.names.begin(), need.names.end(), name) == need.names.end())
                        need.names.push_back(name);
                }
                need.source = "dane";
                co_return need;
            }
            // RFC 7672 2.2: records exist but none is usable: encrypt, no authentication.
            need.level = std::max(need.level, tls::Level::kEncrypt);
            need.source = "dane, no usable TLSA";
            co_return need;
        }
    }
    if (sts && sts->mode != tls::StsPolicy::Mode::kNone) {
        // Enforce raises the level; testing only checks, so the result can be logged. So does
        // enforce for a TLS-Required: No message (RFC 8689 4.2.2: follow, but do not fail).
        need.names = {target.host};
        need.source = "mta-sts";
        if (sts->mode == tls::StsPolicy::Mode::kEnforce && !policy_waived)
            need.level = std::max(need.level, tls::Level::kVerify);
        co_return need;
    }
    if (need.level == tls::Level::kVerify) need.names = {target.host};
    co_return need;
}

}  // namespace tern::delivery
