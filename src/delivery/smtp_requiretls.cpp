// SmtpTransport, RFC 8689: the servers a REQUIRETLS message may go to (a name that DNSSEC, an
// MTA-STS policy or the operator's route vouches for, a verified certificate, REQUIRETLS offered
// under TLS), the status of each refusal, and opening a connection that meets a message's demand.
#include <boost/asio/ip/address.hpp>

#include "base/text.h"
#include "delivery/smtp_connection.h"
#include "delivery/smtp_transport.h"

namespace tern::delivery {
namespace asio = boost::asio;

namespace {

// Tern's final verdict on one server for a REQUIRETLS message.
Failure refused(Refusal refusal, std::string text) {
    static constexpr std::string_view kStatus[] = {"", "5.7.10", "5.7.5", "5.7.30"};
    Failure f;
    f.reply = "550 " + std::string(kStatus[static_cast<int>(refusal)]) + " " + std::move(text);
    f.refusal = refusal;
    return f;
}

// A failed connection as a REQUIRETLS refusal when TLS is what failed; else unchanged (it may
// pass, and the message waits for it).
Failure as_refusal(Failure error, const std::string& label) {
    switch (error.tls) {
        case TlsProblem::kNoTls:
            return refused(Refusal::kNoTls,
                           "Encryption needed: the message requires TLS (REQUIRETLS) and none "
                           "could be had with " +
                               label + " (" + error.reply + ")");
        case TlsProblem::kCertificate:
            return refused(Refusal::kUnverified, "REQUIRETLS: the certificate of " + label +
                                                     " was not accepted (" + error.reply + ")");
        case TlsProblem::kNone:
            break;
    }
    return error;
}

}  // namespace

bool SmtpTransport::name_validated(const Target& target, const HopContext& where) const {
    // The operator named the server (a route or the smarthost): RFC 8689 4.2.1 step 2 is about
    // names found by MX lookup.
    if (!where.hop.mx_lookup) return true;
    if (target.secure) return true;  // DNSSEC-validated MX and address records
    // No MX record, or one naming the domain itself: the certificate must carry the very
    // domain the sender addressed (RFC 8689 4.2.1 step 4).
    if (ascii_lower(target.host) == ascii_lower(where.hop.host)) return true;
    // RFC 8461 4.1: an MX host the domain's policy lists, in enforce or testing mode alike.
    return where.sts && where.sts->mode != tls::StsPolicy::Mode::kNone &&
           tls::sts_mx_allowed(*where.sts, target.host);
}

std::expected<tls::PeerRequirement, Failure> SmtpTransport::requiretls_requirement(
    tls::PeerRequirement need, const Target& target, const HopContext& where) const {
    if (need.level == tls::Level::kNone)
        return std::unexpected(refused(Refusal::kNoTls,
                                       "Encryption needed: the message requires TLS (REQUIRETLS) "
                                       "and outbound TLS is turned off for " +
                                           target.label()));
    if (!name_validated(target, where))
        return std::unexpected(refused(
            Refusal::kUnverified,
            "REQUIRETLS: the name " + target.host +
                " is vouched for neither by DNSSEC nor by an MTA-STS policy of " + where.hop.host));
    boost::system::error_code ec;
    asio::ip::make_address(target.host, ec);
    if (!ec)
        return std::unexpected(refused(
            Refusal::kUnverified,
            "REQUIRETLS: " + target.host + " is an address, which no certificate is verified for"));
    // RFC 8689 4.2.1 step 4: the certificate verifies by DANE, or in a chain to a trusted CA
    // for the host name.
    if (need.level == tls::Level::kDane) return need;
    if (need.level < tls::Level::kVerify) {
        need.level = tls::Level::kVerify;
        need.names = {target.host};
        need.source = "requiretls";
    }
    return need;
}

asio::awaitable<std::expected<std::unique_ptr<SmtpTransport::Connection>, Failure>>
SmtpTransport::open_for(const Target& target, const HopContext& where, Demand demand,
                        const std::string& destination) {
    auto need = co_await requirement_for(where.level, where.domain, target, where.sts,
                                         demand.policy_waived);
    if (!need) co_return std::unexpected(Failure{need.error()});
    if (demand.requiretls) {
        auto strict = requiretls_requirement(std::move(*need), target, where);
        if (!strict) co_return std::unexpected(strict.error());
        need = std::move(*strict);
    }
    Failure error;
    auto c = co_await connect(target, std::move(*need), error);
    if (!c)
        co_return std::unexpected(demand.requiretls ? as_refusal(std::move(error), target.label())
                                                    : std::move(error));
    c->name_validated = name_validated(target, where);
    c->policy_waived = demand.policy_waived;
    if (demand.requiretls && !c->carries_requiretls()) {
        Failure why =
            c->tls && c->tls_session.verified
                ? refused(Refusal::kNotOffered,
                          "REQUIRETLS support required: " + c->label + " does not offer REQUIRETLS")
                : refused(Refusal::kUnverified,
                          "REQUIRETLS: TLS with " + c->label + " is not verified");
        // RFC 8689 4.2.1 lets other mail use this server: the connection stays for it.
        keep_idle(destination, std::move(c));
        co_return std::unexpected(std::move(why));
    }
    co_return c;
}

}  // namespace tern::delivery
