// Transport: what the queue manager asks of a delivery method (local Maildir, SMTP relay):
// deliver some recipients of one message and say, per recipient, how it went.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spool/message.h"

namespace tern::queue {

enum class Outcome {
    kDelivered,  // final success
    kDeferred,   // temporary failure: try again later
    kFailed,     // permanent failure: return to sender
};

struct RecipientResult {
    std::size_t index = 0;  // into Message::recipients
    Outcome outcome = Outcome::kDeferred;
    std::string reply;        // the SMTP-style reply that explains the outcome: "250 2.0.0 ..."
    std::string remote_host;  // the server concerned: "local", or "mx.example.com[192.0.2.1]"
    std::string detail;       // extra facts for the log and queue show (e.g. the TLS used)
    bool notify_passed_on = false;  // relayed to a server that took over DSN duty (RFC 3461)
    // Who decided: true when `reply` is what remote_host said; false when it is Tern's own
    // account (a connection that failed, a next hop without SMTPUTF8, a local mailbox error).
    bool from_host = false;
    // Tern's reply that makes the recipient final regardless of any attempt (an operator's
    // bounce); empty for results of a delivery attempt.
    std::string verdict;
};

struct DeliveryJob {
    std::shared_ptr<const spool::Message>
        message;                          // a snapshot; the queue manager owns the original
    std::vector<std::size_t> recipients;  // indices of the recipients to deliver
    std::string destination;              // routing key: "local" or a domain
};

class Transport {
  public:
    virtual ~Transport() = default;
    // Delivers the job's recipients; returns one result for each of them. Runs on the event
    // loop it is started on and never blocks it.
    virtual boost::asio::awaitable<std::vector<RecipientResult>> deliver(DeliveryJob job) = 0;

    // The event loop the job should run on (one holding a reusable connection for it), or
    // nullptr to let the queue manager choose.
    virtual boost::asio::io_context* preferred_loop(const DeliveryJob&) { return nullptr; }

    // The transport's name in logs and metrics: "local", "smtp".
    virtual std::string_view name() const = 0;
};

}  // namespace tern::queue
