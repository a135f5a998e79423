// WebhookSender: one endpoint's webhook. It reads the event log from its cursor, POSTs the
// events in batches of JSON ({"events": [...]}) signed with HMAC-SHA256 over a timestamp and the
// body (Tern-Signature: t=TIME,v1=HEX), and moves its cursor (a file in <data_dir>/webhooks) only
// past a batch the endpoint answered 2xx; anything else is tried again after a growing pause.
// The event log is the outbox: nothing is lost while the endpoint is down (for as long as the log
// keeps its events), and an event may arrive twice (after a crash, or a lost answer): at least
// once. The queue never waits for it.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "http/client.h"
#include "log/logger.h"

namespace tern::webhooks {

struct WebhookOptions {
    std::string url;                       // http or https
    std::string secret;                    // the HMAC key
    std::string state_dir;                 // <data_dir>/webhooks: the cursor files
    std::vector<std::string> types;        // event types sent; empty: all
    std::size_t batch_size = 100;          // events a POST at most
    std::chrono::milliseconds poll{1000};  // pause when there is nothing new
    std::chrono::seconds min_retry{1};     // first pause after a failure; doubles each time
    std::chrono::seconds max_retry{600};   // longest pause
    http::ClientOptions http;              // TLS trust, resolver, time-out
};

// The Tern-Signature value for `body` sent at `time`: "t=TIME,v1=" and the hex HMAC-SHA256 of
// "TIME.BODY" under `secret`.
std::string webhook_signature(std::string_view secret, std::int64_t time, std::string_view body);

// The cursor file of `url` in `dir`: its name is a digest of the URL, its content "SEQ URL".
std::string cursor_path(const std::string& dir, std::string_view url);

class WebhookSender {
  public:
    // Runs on `home`; `log` outlives the sender's coroutine (stop() and the loops' end first).
    WebhookSender(boost::asio::io_context& home, const events::EventLog& log,
                  WebhookOptions options, log::Logger& logger);

    // Reads the cursor (a new endpoint starts at the log's end: it is not sent the history),
    // then starts the loop.
    Result<void> start();
    // Ends the loop: a POST in progress is abandoned, its batch sent again at the next start.
    void stop();

  private:
    struct State;
    boost::asio::awaitable<void> run(std::shared_ptr<State> state);

    boost::asio::io_context& home_;
    std::shared_ptr<State> state_;
};

}  // namespace tern::webhooks
