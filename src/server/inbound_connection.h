// InboundConnection: drives one client connection. Reads bytes into the sans-I/O ServerSession
// and carries out its actions: replies, policy checks, spooling, TLS handshakes, SASL, closing.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "auth/mechanism.h"
#include "net/connection_limits.h"
#include "server/server_context.h"
#include "smtp/server_session.h"

namespace tern::server {

class InboundConnection : public std::enable_shared_from_this<InboundConnection> {
  public:
    InboundConnection(ServerContext& context, boost::asio::ip::tcp::socket socket,
                      net::ConnectionLimits::Slot slot, ListenerKind kind);
    ~InboundConnection();

    // Serves the connection to its end. Spawn it with a completion handler that holds a
    // shared_ptr to the connection, so that the connection outlives it.
    boost::asio::awaitable<void> run();

  private:
    using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

    // Registers the session, sets the socket up and arms the watchdog.
    void start();
    // The submissions port's TLS handshake, the connect stages, the greeting.
    boost::asio::awaitable<void> greet();
    // Postscreen's pregreet test (policy/pregreet.h): false when the client talked first and
    // was dropped, or left.
    boost::asio::awaitable<bool> pregreet_test();
    // The close: TLS close_notify, the socket, an unfinished message; unregisters.
    boost::asio::awaitable<void> finish();
    // The deadline watchdog: a timer handler that cancels the session's I/O at deadline_.
    void arm_watchdog();
    void on_watchdog();
    boost::asio::awaitable<void> perform();
    boost::asio::awaitable<bool> flush();
    boost::asio::awaitable<bool> handshake();
    boost::asio::awaitable<void> auth_step(std::string data);
    // Counts a failed exchange with the login throttle, holds the reply back as long as the
    // throttle says, logs it and replies. `password_tag`: LoginThrottle::tag of the password
    // tried, when the mechanism showed one.
    boost::asio::awaitable<void> auth_failed(const auth::Failure& failure,
                                             const std::string& mechanism,
                                             const std::string& account,
                                             std::optional<std::uint64_t> password_tag);
    boost::asio::awaitable<void> pause(std::chrono::milliseconds delay);
    boost::asio::awaitable<smtp::Reply> check_sender();
    boost::asio::awaitable<smtp::Reply> check_recipient();
    boost::asio::awaitable<smtp::Reply> check_helo();
    void begin_message();
    // The stages' reply in place of `ok` when one of them decides; logs it.
    // `address` is the MAIL or RCPT address the verdict is about ("" at connect and HELO).
    smtp::Reply pipeline_reply(const pipeline::Verdict& verdict, smtp::Reply ok,
                               std::string_view hook, std::string_view address = {});
    boost::asio::awaitable<pipeline::Verdict> access_only(
        boost::asio::awaitable<pipeline::Verdict> check);
    void keep_scores(const pipeline::Verdict& verdict, std::string_view hook);
    void log_refusal(std::string_view stage, std::string_view hook, std::string_view reason,
                     std::string_view address, const smtp::Reply& reply);
    void count_message(std::string_view result);  // for /metrics: queued, refused...
    const pipeline::SessionInfo& session_info();
    boost::asio::awaitable<smtp::Reply> commit_message();
    // Carries out the stages' envelope changes on `message` in order (inbound_envelope_edits.cpp):
    // a new sender, deleted recipients, added ones routed as an RCPT would be; each is logged.
    boost::asio::awaitable<void> apply_envelope_edits(
        const std::vector<pipeline::EnvelopeEdit>& edits, spool::Message& message);
    void request_stop();
    void set_deadline(std::chrono::seconds timeout);
    void set_deadline_at(std::chrono::steady_clock::time_point deadline);
    void arm_read_deadline();
    void credit_read(std::size_t octets);
    smtp::SessionOptions session_options() const;
    boost::asio::ip::tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }

    ServerContext& ctx_;
    const std::shared_ptr<const SessionSettings> config_;  // the settings it started with
    ListenerKind kind_;
    boost::asio::ip::tcp::socket socket_;                     // until TLS starts; then inside tls_
    std::shared_ptr<boost::asio::ssl::context> tls_context_;  // kept for the connection's life
    std::unique_ptr<TlsStream> tls_;
    net::ConnectionLimits::Slot slot_;
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_;
    // By when the command line or message text being read must be complete (arm_read_deadline).
    std::chrono::steady_clock::time_point read_deadline_;
    bool reading_text_ = false;    // read_deadline_ is that of message text (DATA/BDAT)
    bool timed_out_ = false;       // the watchdog cancelled a read or write
    bool grace_ = false;           // timed out; the 421 has one period to go out
    bool stop_requested_ = false;  // shutdown reached this session
    bool closed_ = false;
    bool write_failed_ = false;  // a write to the client failed or was cancelled
    std::uint64_t registry_key_ = 0;

    std::string client_ip_;
    bool loopback_ = false;
    std::uint8_t session_score_items_ = 0;  // the first items of info_->scores: connect and HELO
    std::string tls_summary_;  // "version=TLSv1.3 cipher=..." for the Received header; "" = none
    std::string tls_version_;  // "TLSv1.3", for the stages; "" = none
    smtp::ServerSession session_;
    std::string out_;                               // replies not yet written
    const pipeline::Pipeline* pipeline_ = nullptr;  // this listener's stages (config_ holds
                                                    // them); null = none
    std::unique_ptr<pipeline::SessionInfo> info_;   // what the stages know of the client
                                                    // (made when first asked for)
    std::unique_ptr<spool::MessageWriter> writer_;  // the message being received
    std::unique_ptr<pipeline::MessageRun> run_;     // the stages' view of it (null: no stage)
    std::optional<Error> writer_error_;             // why writer_ could not be created
    std::size_t messages_ = 0;
    std::unique_ptr<auth::Mechanism> mechanism_;  // the SASL exchange under way
};

}  // namespace tern::server
