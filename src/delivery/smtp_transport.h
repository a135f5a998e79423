// SmtpTransport: relays messages to other mail servers: routes or MX lookup, trying each
// address in order, one SMTP transaction per message, idle connections kept for reuse.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "dns/mx_resolver.h"
#include "log/logger.h"
#include "queue/transport.h"
#include "spool/spool.h"

namespace tern::delivery {

struct SmtpTransportOptions {
    std::string helo_name;
    std::uint16_t port = 25;                    // port of mail exchangers found by MX lookup
    std::map<std::string, std::string> routes;  // lower-case domain -> "host:port" or "[ip]:port"
    std::string smarthost;                      // every relayed domain without a route; empty = MX
    std::chrono::seconds connect_timeout{30};
    std::chrono::seconds greeting_timeout{300};    // RFC 5321 4.5.3.2.1
    std::chrono::seconds command_timeout{300};     // 4.5.3.2.2 / .3 (MAIL, RCPT, EHLO, RSET)
    std::chrono::seconds data_init_timeout{120};   // 4.5.3.2.4
    std::chrono::seconds data_block_timeout{180};  // 4.5.3.2.5
    std::chrono::seconds data_end_timeout{600};    // 4.5.3.2.6
    std::size_t max_messages_per_connection = 100;
    std::chrono::seconds idle_timeout{5};  // an unused open connection is closed after this
    std::size_t max_hops = 50;             // Received headers beyond this: 5.4.6
    // Addresses this daemon listens on (port included); an MX resolving to one is a loop.
    std::vector<boost::asio::ip::tcp::endpoint> own_endpoints;
};

class SmtpTransport : public queue::Transport {
  public:
    SmtpTransport(spool::Spool& spool, dns::MxResolver& mx, SmtpTransportOptions options,
                  log::Logger& log);
    ~SmtpTransport() override;

    boost::asio::awaitable<std::vector<queue::RecipientResult>> deliver(
        queue::DeliveryJob job) override;

    // Closes idle connections (QUIT) so the event loops can finish; for shutdown.
    void close_idle();

    // The domain part of an address, lower-cased.
    static std::string domain_of(std::string_view address);

  private:
    struct Connection;
    struct Target {
        std::string host;  // name to show ("mx.example.org")
        std::string address;
        std::uint16_t port;
    };
    struct Pool;

    boost::asio::awaitable<std::expected<std::vector<Target>, queue::RecipientResult>> targets_for(
        const std::string& domain);
    boost::asio::awaitable<std::unique_ptr<Connection>> connect(const Target& target,
                                                                queue::RecipientResult& error);
    boost::asio::awaitable<bool> run_until_settled(Connection& c, int body_fd,
                                                   const spool::Message* message);
    boost::asio::awaitable<bool> send_body(Connection& c, int fd, const spool::Message& m,
                                           const std::string& bdat);
    std::unique_ptr<Connection> take_idle(const std::string& destination);
    void keep_idle(const std::string& destination, std::unique_ptr<Connection> c);
    bool is_own(const std::string& address, std::uint16_t port) const;
    Pool& pool_here();

    spool::Spool& spool_;
    dns::MxResolver& mx_;
    SmtpTransportOptions options_;
    log::Logger& log_;
    std::mutex pools_mutex_;
    std::unordered_map<void*, std::unique_ptr<Pool>> pools_;  // one per event loop
};

// Counts the Received: header fields in the header section of `text`.
std::size_t count_received(std::string_view text);

}  // namespace tern::delivery
