// MilterClient: the MTA side of one milter conversation (protocol version 6) for one message,
// over TCP ("inet:127.0.0.1:11332") or a Unix socket ("unix:/run/rspamd/milter.sock"): option
// negotiation, macros, every step the filter asked for, and the end-of-message modifications.
// The filter is not trusted: every wait has a deadline, every frame is size-checked.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "filter/milter_protocol.h"
#include "net/stream_address.h"
#include "smtp/replies.h"

namespace tern::filter {

struct MilterTimeouts {
    std::chrono::milliseconds connect{30000};         // to connect and negotiate
    std::chrono::milliseconds command{30000};         // for the answer to each command
    std::chrono::milliseconds end_of_message{60000};  // for the end-of-message answers
};

using Macros = std::vector<std::pair<std::string, std::string>>;

// Everything a filter is told about one message, in the protocol's own terms.
struct MilterMessage {
    // Connect: the client's verified name (or "[ip]"), its address and port.
    std::string client_name;
    milter::Family family = milter::Family::kUnknown;
    std::string client_address;
    std::uint16_t client_port = 0;
    std::string helo;
    std::vector<std::string> mail_args;               // "<sender>", then ESMTP parameters
    std::vector<std::vector<std::string>> rcpt_args;  // per recipient: "<rcpt>", parameters
    // Header fields top first: name, and value as received after the colon (CRLF inside folds).
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;  // the body as received (CRLF line ends)
    // Macros sent before each step's command.
    Macros connect_macros, helo_macros, mail_macros, data_macros, end_macros;
    std::vector<Macros> rcpt_macros;  // per recipient
};

// What a filter decided about a message.
struct MilterOutcome {
    enum class Decision { kContinue, kAccept, kReject, kTempfail, kDiscard, kReplyCode };
    Decision decision = Decision::kContinue;
    std::string step;        // where it decided: "connect", "rcpt", "end-of-message"...
    std::string reply_text;  // for kReplyCode: the filter's "550 5.7.1 ..." as sent
    std::vector<milter::Response> modifications;  // end of message, in order (quarantine too)
    // Recipients (indexes into rcpt_args) the filter refused, with its answer, when it kept the
    // others.
    std::vector<std::pair<std::size_t, milter::Response>> refused_recipients;
    std::uint32_t actions = 0;  // what negotiation allowed
    std::uint32_t steps = 0;    // the filter's protocol flags
    // The macros the filter asked for per step (SMFIF_SETSYMLIST), by the protocol's step
    // number (0 connect, 1 HELO, 2 MAIL, 3 RCPT, 4 DATA, 5 end of message, 6 end of headers):
    // names without braces. A step it named gets only those of ours; the others get all.
    std::map<std::uint32_t, std::vector<std::string>> macros_wanted;
};

// The macros of `ours` to send before `step`: those the filter asked for at that step, or all.
Macros macros_for(const Macros& ours, milter::Command step, const MilterOutcome& out);

struct MilterClientOptions {
    net::StreamAddress address;
    MilterTimeouts timeouts;
    std::size_t max_frame = 1 << 20;  // octets of one response frame from the filter
    // Octets of replacement body (all its replbody frames together) a filter may send; more is
    // a failure of the filter (its default action), so that memory stays bounded.
    std::size_t max_replaced_body = 10 << 20;
};

// The actions Tern offers (every one of protocol version 6; see docs/filters.md for what it
// does with each) and the steps it offers to skip or not to await.
std::uint32_t offered_actions();
std::uint32_t offered_steps();

// The conversations under way with the filters of one stage, so that a shutdown can end them:
// each conversation registers while it runs. Thread-safe.
class MilterConversations {
  public:
    // Ends every conversation under way, and any later one at once, as failures.
    void stop_all();

    // For run_milter: `cancel` ends the conversation (it is called on any thread and must post
    // to the conversation's loop). Returns a key for remove(), or nullopt after stop_all().
    std::optional<std::uint64_t> add(std::function<void()> cancel);
    void remove(std::uint64_t key);

  private:
    std::mutex mutex_;
    bool stopped_ = false;
    std::uint64_t next_ = 0;
    std::map<std::uint64_t, std::function<void()>> cancels_;
};

// Runs one message through a filter, from connecting to QUIT. An error (cannot connect, timed
// out, garbage, closed early, a frame over the limit, stopped) means the filter's default action
// applies. `conversations`, when given, can end it.
boost::asio::awaitable<Result<MilterOutcome>> run_milter(
    boost::asio::any_io_executor executor, const MilterClientOptions& options,
    const MilterMessage& message, MilterConversations* conversations = nullptr);

}  // namespace tern::filter
