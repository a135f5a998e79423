// SmtpTransport: relays messages to other mail servers (RFC 5321 section 5): the next hop from
// a route, a smarthost or the MX records, each address tried in order, idle connections reused;
// REQUIRETLS messages only over verified TLS, and TLS-Required: No honoured (RFC 8689).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "delivery/srs_rewriter.h"
#include "dns/mx_resolver.h"
#include "feedback/verp.h"
#include "log/logger.h"
#include "metrics/metrics.h"
#include "net/next_hop.h"
#include "queue/transport.h"
#include "spool/spool.h"
#include "spool/text_reader.h"
#include "tls/client_context.h"
#include "tls/mta_sts_cache.h"

namespace tern::delivery {

// Where mail goes, at which TLS level, and which addresses are our own: what a reload replaces
// (SmtpTransport::set_routing).
struct SmtpRouting {
    std::map<std::string, net::NextHop> routes;  // lower-case domain -> next hop
    std::optional<net::NextHop> smarthost;       // every domain without a route; none = MX lookup
    tls::Level tls_level = tls::Level::kMay;     // for destinations without a policy
    std::map<std::string, tls::Level> tls_policies;  // lower-case domain -> level
    // Addresses and ports this daemon listens on; an MX that is one of them is ourselves.
    std::vector<boost::asio::ip::tcp::endpoint> own_endpoints;
};

// How the relay talks to each next hop: the port, the time-outs, the limits per connection and
// transaction. A reload replaces them (SmtpTransport::set_peer_settings): each wait and each
// decision reads the ones in force when it begins.
struct SmtpPeerSettings {
    std::uint16_t port = 25;  // port of mail exchangers found by MX lookup
    std::chrono::seconds connect_timeout{30};
    std::chrono::seconds greeting_timeout{300};    // RFC 5321 4.5.3.2.1
    std::chrono::seconds command_timeout{300};     // 4.5.3.2.2 / .3 (EHLO, MAIL, RCPT, RSET)
    std::chrono::seconds data_init_timeout{120};   // 4.5.3.2.4
    std::chrono::seconds data_block_timeout{180};  // 4.5.3.2.5
    std::chrono::seconds data_end_timeout{600};    // 4.5.3.2.6
    std::size_t max_messages_per_connection = 100;
    std::size_t max_recipients_per_transaction = 100;
    std::chrono::seconds idle_timeout{5};  // an unused open connection is closed after this
    std::size_t max_hops = 50;             // more Received headers than this: 554 5.4.6
    bool dane = true;                      // use secure TLSA records (RFC 7672)
};

struct SmtpTransportOptions {
    std::string helo_name;
    SmtpRouting routing;
    SmtpPeerSettings peer;

    // Outbound TLS (docs/tls.md). Without a context no STARTTLS is ever sent.
    tls::ClientContext* tls = nullptr;
    tls::MtaStsCache* mta_sts = nullptr;  // RFC 8461 policies; null = off

    // The return path of each recipient's delivery (SRS for forwarded mail, docs/srs.md);
    // null: the message's own sender for every recipient.
    const SrsRewriter* srs = nullptr;
    // VERP (docs/feedback.md): the return path of each recipient of the messages it applies to
    // (the sending API's, or every one with a sender when `verp_all`), unless SRS rewrote it.
    const feedback::VerpCodec* verp = nullptr;
    bool verp_all = false;

    metrics::Registry* metrics = nullptr;  // counts TLS failures for /metrics; null: none
};

// What kept TLS from a server, when that is why a connection failed.
enum class TlsProblem {
    kNone,
    kNoTls,        // no TLS session: not offered, refused, or the handshake failed
    kCertificate,  // TLS, but the certificate was not accepted
};

// Why a server can never take a REQUIRETLS message (RFC 8689 4.2.1), weakest first: when no
// server of a next hop can, the message is returned with the strongest refusal met.
enum class Refusal {
    kNone,        // not a refusal: the failure may pass (a connection refused, a timeout)
    kNoTls,       // 5.7.10: no TLS session could be had
    kUnverified,  // 5.7.5: its name or its certificate could not be verified
    kNotOffered,  // 5.7.30: verified TLS, but the server does not offer REQUIRETLS
};

// Why an attempt failed, as an SMTP-style reply line, and who said it: the server (a reply it
// sent) or Tern (a connection that failed, a TLS requirement not met, a timeout).
struct Failure {
    std::string reply;
    bool from_host = false;
    TlsProblem tls = TlsProblem::kNone;
    Refusal refusal = Refusal::kNone;  // `reply` is Tern's final verdict for a REQUIRETLS message
};

class SmtpTransport : public queue::Transport {
  public:
    SmtpTransport(spool::Spool& spool, dns::MxResolver& mx, SmtpTransportOptions options,
                  log::Logger& log);
    ~SmtpTransport() override;

    // The destination key of a remote domain: recipients with the same key share a next hop,
    // a concurrency limit and connections.
    std::string destination_of(std::string_view domain) const;

    boost::asio::awaitable<std::vector<queue::RecipientResult>> deliver(
        queue::DeliveryJob job) override;

    // The loop that holds an idle connection to the job's destination, so the job can use it.
    boost::asio::io_context* preferred_loop(const queue::DeliveryJob& job) override;
    std::string_view name() const override { return "smtp"; }

    // Says QUIT on every idle connection and stops keeping new ones; for shutdown.
    void close_idle();

    // Routes, TLS levels and own addresses from now (a reload); recipients routed before keep
    // their destination until their next attempt. Safe from any thread.
    void set_routing(SmtpRouting routing);

    // Port, time-outs and limits from now (a reload): each wait, new connection and batch
    // begun after the call uses them. Safe from any thread.
    void set_peer_settings(SmtpPeerSettings settings);

  private:
    struct Connection;
    struct Target {
        std::string host;     // the name to show ("mx.example.org")
        std::string address;  // an IP address
        std::uint16_t port = 25;
        bool secure = false;    // the name and its addresses were DNSSEC-validated (DANE applies)
        std::string canonical;  // the name after CNAMEs, when it differs
        // "mx.example.org[192.0.2.1]:25", as logs, notices and `tern queue show` name a server.
        std::string label() const { return host + "[" + address + "]:" + std::to_string(port); }
    };
    // What one message asks of the servers it goes to (RFC 8689).
    struct Demand {
        bool requiretls = false;     // REQUIRETLS: verified TLS, a validated name, the extension
        bool policy_waived = false;  // TLS-Required: No: the domain's MTA-STS and DANE do not bind
    };
    // Where a next hop's servers came from, for the checks of RFC 8689 4.2.1.
    struct HopContext {
        const net::NextHop& hop;
        std::string domain;  // the recipient domain when delivering by its MX records, else empty
        tls::Level level;
        const std::optional<tls::StsPolicy>& sts;
    };
    struct ReadResult {
        bool ok = false;
        bool timed_out = false;
        std::size_t size = 0;
    };
    struct Idle {
        std::unique_ptr<Connection> connection;
        boost::asio::io_context* loop = nullptr;  // the loop its socket belongs to
    };

    boost::asio::awaitable<std::expected<std::vector<Target>, queue::RecipientResult>> targets_for(
        const net::NextHop& hop);
    boost::asio::awaitable<std::expected<tls::PeerRequirement, std::string>> requirement_for(
        tls::Level level, const std::string& domain, const Target& target,
        const std::optional<tls::StsPolicy>& sts, bool policy_waived = false);
    // A connection to `target` that meets what the message demands, or why there is none.
    boost::asio::awaitable<std::expected<std::unique_ptr<Connection>, Failure>> open_for(
        const Target& target, const HopContext& where, Demand demand,
        const std::string& destination);
    // RFC 8689 4.2.1: `target`'s name is not in doubt (DNSSEC, MTA-STS, the operator's route).
    bool name_validated(const Target& target, const HopContext& where) const;
    // What a REQUIRETLS message needs of `target` on top of `need`, or the refusal.
    std::expected<tls::PeerRequirement, Failure> requiretls_requirement(
        tls::PeerRequirement need, const Target& target, const HopContext& where) const;
    tls::Level level_for(std::string_view domain) const;
    boost::asio::awaitable<std::unique_ptr<Connection>> connect(const Target& target,
                                                                tls::PeerRequirement need,
                                                                Failure& error);
    boost::asio::awaitable<std::unique_ptr<Connection>> open(const Target& target,
                                                             const tls::PeerRequirement& need,
                                                             Failure& error);
    boost::asio::awaitable<bool> write(Connection& c, std::string_view data,
                                       std::chrono::seconds limit);
    boost::asio::awaitable<ReadResult> read(Connection& c, std::chrono::seconds limit);
    boost::asio::awaitable<bool> start_tls(Connection& c);
    boost::asio::awaitable<void> transact(Connection& c, const spool::Message& m,
                                          const spool::TextReader& text,
                                          const std::vector<std::size_t>& batch,
                                          const std::string& sender,
                                          std::vector<queue::RecipientResult>& results);
    boost::asio::awaitable<bool> drive(Connection& c, const spool::Message* m,
                                       const spool::TextReader* text);
    boost::asio::awaitable<bool> send_body(Connection& c, const spool::Message& m,
                                           const spool::TextReader& text, const std::string& bdat);
    std::unique_ptr<Connection> take_idle(const std::string& destination,
                                          boost::asio::io_context* here, Demand demand);
    void keep_idle(const std::string& destination, std::unique_ptr<Connection> c);
    boost::asio::awaitable<void> close_when_idle(std::string destination, Connection* c);
    boost::asio::awaitable<void> quit(std::unique_ptr<Connection> c);
    bool is_own(const boost::asio::ip::address& address, std::uint16_t port) const;
    net::NextHop next_hop_of(const std::string& destination) const;

    spool::Spool& spool_;
    dns::MxResolver& mx_;
    SmtpTransportOptions options_;
    log::Logger& log_;
    metrics::Family* tls_failures_ = nullptr;  // tern_smtp_tls_failures_total{reason}
    void count_tls_failure(std::string_view reason);
    tls::ClientContext* tls_ = nullptr;
    std::atomic<std::shared_ptr<const SmtpRouting>> routing_;
    std::atomic<std::shared_ptr<const SmtpPeerSettings>> peer_;
    std::shared_ptr<const SmtpPeerSettings> peer() const { return peer_.load(); }
    std::mutex idle_mutex_;
    std::multimap<std::string, Idle> idle_;  // destination -> open connections not in use
    bool closing_ = false;
};

// Counts the Received: header fields in the header section of `text`.
std::size_t count_received(std::string_view text);

}  // namespace tern::delivery
