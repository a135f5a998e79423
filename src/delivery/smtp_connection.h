// SmtpTransport::Connection: one outbound SMTP connection (socket, TLS stream, timers, the
// ClientSession that drives it); shared by the transport's files, private to delivery/.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "delivery/smtp_transport.h"
#include "smtp/client_session.h"
#include "smtp/reply_parser.h"

namespace tern::delivery {

struct SmtpTransport::Connection {
    Connection(const boost::asio::any_io_executor& ex, smtp::ClientOptions options)
        : socket(ex), timer(ex), idle_timer(ex), session(std::move(options)) {}

    // The TCP socket under any TLS: for connect, options, shutdown and close.
    boost::asio::ip::tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

    boost::asio::ip::tcp::socket socket;                                          // until STARTTLS
    std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls;  // after STARTTLS
    boost::asio::steady_timer timer;       // the deadline of the operation under way
    boost::asio::steady_timer idle_timer;  // while in the idle pool: when to close it
    smtp::ClientSession session;
    tls::PeerRequirement need;  // what this connection requires of TLS
    tls::Session tls_session;   // what it got; empty protocol = plain text
    std::string label;          // "mx.example.org[192.0.2.1]:25", for logs and queue show
    std::size_t messages = 0;   // transactions completed on this connection
    bool broken = false;        // the socket failed or timed out: not usable any more
    std::string error;          // why it broke, as an SMTP-style reply line (Tern's own words)
    TlsProblem tls_problem = TlsProblem::kNone;  // what kept TLS from it, when that broke it
    bool name_validated = false;  // RFC 8689 4.2.1: DNSSEC, MTA-STS or a route vouch for the name
    bool policy_waived = false;   // made for a TLS-Required: No message: never reused
    std::array<char, 8192> input{};

    // Why the session ended: the break, or the reply it failed on (the server's, or the client
    // session's own verdict such as a missing SMTPUTF8).
    Failure failure() const {
        if (broken) return Failure{error, false, tls_problem};
        const auto& f = session.failure();
        return Failure{smtp::reply_line(f), !f.synthetic,
                       session.tls_unavailable() ? TlsProblem::kNoTls : TlsProblem::kNone};
    }

    // RFC 8689 4.2.1: a REQUIRETLS message may go over this connection.
    bool carries_requiretls() const {
        return name_validated && tls && tls_session.verified && session.requiretls_offered();
    }
};

// The io_context an executor belongs to.
inline boost::asio::io_context& context_of(const boost::asio::any_io_executor& ex) {
    return static_cast<boost::asio::io_context&>(
        boost::asio::query(ex, boost::asio::execution::context));
}

}  // namespace tern::delivery
