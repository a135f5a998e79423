// LmtpTransport: delivers recipients of local domains to an LMTP server (RFC 2033) such as
// Dovecot's lmtp service, over a Unix socket or TCP, with one reply per recipient after the data.
// Which domains go there is configured per domain ([local] lmtp); the others stay in Maildir.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "log/logger.h"
#include "net/lmtp_target.h"
#include "queue/transport.h"
#include "spool/spool.h"
#include "spool/text_reader.h"

namespace tern::delivery {

struct LmtpTransportOptions {
    std::string lhlo_name;  // our host name, for LHLO
    std::map<std::string, net::LmtpTarget>
        domains;                        // lower-case local domain ("*": every one) -> server
    std::chrono::seconds timeout{600};  // connect, and each reply (the data's end too)
    std::size_t max_recipients_per_transaction = 100;
};

class LmtpTransport : public queue::Transport {
  public:
    LmtpTransport(spool::Spool& spool, LmtpTransportOptions options, log::Logger& log);

    // The destination key of a local domain delivered by LMTP ("lmtp:unix:/run/dovecot/lmtp"),
    // or nullopt when the domain's mail goes to Maildir.
    std::optional<std::string> destination_of(std::string_view domain) const;

    boost::asio::awaitable<std::vector<queue::RecipientResult>> deliver(
        queue::DeliveryJob job) override;
    std::string_view name() const override { return "lmtp"; }

  private:
    struct Session;
    boost::asio::awaitable<bool> connect(Session& s, const net::LmtpTarget& target);
    // Writes and reads until the client session is ready, done or failed; false when the
    // connection broke or the session failed.
    boost::asio::awaitable<bool> drive(Session& s, const spool::TextReader* text);
    boost::asio::awaitable<bool> write(Session& s, std::string_view data);

    spool::Spool& spool_;
    LmtpTransportOptions options_;
    log::Logger& log_;
};

}  // namespace tern::delivery
