// ServerSession: the server side of one SMTP connection as a sans-I/O state machine. Bytes from
// the client go in; actions (replies to send, checks to run, message data to store) come out.
// Trusts nothing it receives. RFC 5321, 1870, 2920, 3030, 3207, 3461, 4954, 6152, 6531, 2034,
// 9422 (LIMITS), 8689 (REQUIRETLS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/command.h"
#include "smtp/data_decoder.h"
#include "smtp/envelope.h"
#include "smtp/replies.h"
#include "smtp/text_scan.h"

namespace tern::smtp {

struct SessionLimits {
    std::size_t max_command_line = 512;         // octets including CRLF (RFC 5321 4.5.3.1.4)
    std::size_t max_text_line = 1000;           // octets including CRLF (RFC 5321 4.5.3.1.6)
    std::uint64_t max_message_size = 52428800;  // octets; advertised with SIZE
    std::size_t max_recipients = 1000;          // per transaction (RFC 5321 4.5.3.1.8)
    std::size_t recipient_overshoot = 1000;     // RCPTs past max_recipients refused with 452
                                                // before each further one counts as an error
    std::size_t max_errors = 20;                // error replies before the session is closed
    std::size_t max_auth_line = 12288;          // octets of one AUTH line (RFC 4954 section 4)
    std::size_t max_transactions = 1000;        // MAIL commands per connection (RFC 9422 MAILMAX)
    BareLf bare_lf = BareLf::kNormalize;        // a bare LF in DATA and in command lines
    std::size_t max_hops = 50;                  // Received fields with ours; 0 = no limit
    NulOctets nul_octets = NulOctets::kReject;  // a NUL octet in message text
};

struct SessionOptions {
    std::string hostname;  // our name in the greeting and EHLO reply
    SessionLimits limits;
    bool eight_bit_mime = true;
    bool smtputf8 = true;
    bool dsn = true;
    bool chunking = true;
    bool requiretls = true;   // REQUIRETLS (RFC 8689), advertised and accepted only under TLS
    bool starttls = false;    // STARTTLS may be offered on this connection
    bool tls_active = false;  // the connection is already TLS (implicit TLS, RFC 8314)
    std::vector<std::string> auth_mechanisms;  // SASL mechanisms; empty = no AUTH
    bool auth_needs_tls = true;  // AUTH only once TLS is active (else 530 5.7.0 when STARTTLS is
                                 // offered, 538 5.7.11 when it is not)
    bool auth_required = false;  // MAIL needs AUTH first (submission, RFC 6409)
    bool tls_required = false;   // commands other than EHLO/STARTTLS/QUIT need TLS first
    bool check_helo = false;     // ask the driver about each EHLO/HELO name (kCheckHelo)
};

enum class ActionKind {
    kSend,            // write `data` (rendered replies) to the client
    kCheckHelo,       // decide on pending_helo(); answer with helo_checked()
    kCheckSender,     // decide on pending_mail(); answer with sender_checked()
    kCheckRecipient,  // decide on pending_recipient(); answer with recipient_checked()
    kBeginMessage,    // a message starts; envelope() is final
    kBodyData,        // `data` is the next part of the message
    kCommitMessage,   // the message is complete: make it durable, answer message_committed()
    kAbortMessage,    // throw away the message begun with kBeginMessage
    kStartTls,        // flush output, do the TLS handshake, answer tls_started()
    kAuthStart,       // AUTH: a new SASL exchange of auth_mechanism(); `data` is the initial
                      // response as sent ("" = none, "=" = empty); answer auth_*()
    kAuthStep,        // SASL: `data` is the client's base64 response; answer auth_*()
    kClose,           // flush output and close the connection
};

struct Action {
    ActionKind kind;
    std::string data;
};

class ServerSession {
  public:
    explicit ServerSession(SessionOptions options);

    // Emits the 220 greeting.
    void start();
    // Instead of the greeting: refuses the connection with `reply` (554 or 421) and closes.
    void refuse(Reply reply);

    // Feeds bytes received from the client. They are processed at once unless the session is
    // waiting for an answer, in which case they are kept until the answer comes.
    void receive(std::string_view bytes);

    // Answers to the actions that ask for one. Each resumes processing of buffered input.
    // A positive answer to a HELO check lets the greeting reply go out; any other is sent in
    // its place (and a 421 closes).
    void helo_checked(Reply reply);
    void sender_checked(Reply reply);
    void recipient_checked(Reply reply);
    void message_committed(Reply reply);
    void tls_started(bool ok);
    void auth_challenge(std::string base64);  // 334 and wait for a response
    void auth_succeeded(std::string user);    // 235
    void auth_failed(Reply reply);            // 535, 454, ...

    // The peer went quiet too long: 421 4.4.2 and close.
    void timeout();
    // The daemon is stopping: 421 4.3.2 and close.
    void shutdown();

    // Takes the actions produced so far, oldest first.
    std::vector<Action> take_actions();

    bool closed() const { return state_ == State::kClosed; }
    // True when the session would process more input now (it is not waiting for an answer).
    bool wants_input() const { return wait_ == Wait::kNone && state_ != State::kClosed; }
    // True while message bytes (DATA or a BDAT chunk) are being read, for the timeout choice.
    bool reading_message() const { return state_ == State::kData || state_ == State::kBdatChunk; }
    // Bytes received but not yet processed.
    std::size_t buffered() const { return in_.size() - in_pos_; }
    // True while part of a command (or AUTH) line has arrived and its end has not: the driver
    // bounds the time to a whole line, not the time between reads.
    bool mid_line() const {
        return state_ == State::kSkipLine ||
               ((state_ == State::kCommand || state_ == State::kAuthResponse) &&
                in_pos_ < in_.size());
    }

    // The envelope of the transaction under way, or of the last one until the next MAIL is
    // accepted, so that it is still whole when the driver reaches that message's kBeginMessage.
    const Envelope& envelope() const { return envelope_; }
    const MailCommand& pending_mail() const { return pending_mail_; }
    const RcptCommand& pending_recipient() const { return pending_rcpt_; }
    const std::string& helo_name() const { return helo_name_; }
    // The EHLO/HELO name waiting for helo_checked().
    const std::string& pending_helo() const { return pending_helo_; }
    const std::string& auth_mechanism() const { return auth_mechanism_; }
    const std::string& authenticated_user() const { return auth_user_; }
    bool tls_active() const { return tls_active_; }
    bool esmtp() const { return esmtp_; }
    // The WITH keyword of the Received header: SMTP, ESMTP[S][A] or UTF8SMTP[S][A] (RFC 3848,
    // 6531).
    std::string protocol() const;
    // Octets of message received in the current transaction.
    std::uint64_t message_size() const { return message_size_; }

  private:
    enum class State {
        kCommand,       // reading command lines
        kSkipLine,      // discarding the rest of an over-long command line
        kData,          // reading DATA through the decoder
        kBdatChunk,     // reading the octets of one BDAT chunk
        kAuthResponse,  // reading one SASL response line
        kClosed,
    };
    enum class Wait { kNone, kHelo, kSender, kRecipient, kCommit, kTls, kAuth };

    void process();
    void handle_line(std::string_view line);
    void count_skipped(std::size_t octets, std::size_t limit);
    void handle_command(std::string_view line);
    void handle_data_bytes();
    void handle_bdat_bytes();
    void finish_data();
    void finish_bdat_chunk();
    void handle_auth_line(std::string_view line);

    void on_helo(const CommandLine& cmd, bool extended);
    void accept_helo(std::string name, bool extended);
    void on_mail(const CommandLine& cmd);
    void on_rcpt(const CommandLine& cmd);
    void on_data(const CommandLine& cmd);
    void on_bdat(const CommandLine& cmd);
    void on_starttls(const CommandLine& cmd);
    void on_auth(const CommandLine& cmd);

    void send(const Reply& reply);
    void count_error();
    std::optional<Reply> text_refusal() const;
    void send_and_close(const Reply& reply);
    void emit(ActionKind kind, std::string data = {});
    void flush_body();
    void reset_transaction();
    Offered offered() const;
    std::string ehlo_text() const;
    bool auth_offered_now() const;
    bool auth_waits_for_tls() const;

    SessionOptions options_;
    std::vector<Action> actions_;

    // Input.
    std::string in_;          // bytes received and not yet discarded
    std::size_t in_pos_ = 0;  // first unprocessed byte of in_
    State state_ = State::kCommand;
    Wait wait_ = Wait::kNone;
    std::size_t errors_ = 0;         // error replies sent in this session
    std::size_t skipped_ = 0;        // octets of an over-long line past its limit, not counted
    std::size_t mail_commands_ = 0;  // MAIL commands on this connection, STARTTLS or not

    // Session state, reset by STARTTLS.
    std::string helo_name_;  // argument of the last EHLO/HELO; empty = none yet
    bool esmtp_ = false;     // the last greeting was EHLO
    bool tls_active_ = false;
    std::string auth_user_;       // authenticated identity; empty = not authenticated
    std::string auth_mechanism_;  // mechanism of the SASL exchange under way
    std::string pending_helo_;    // a HELO name being checked (Wait::kHelo)
    bool pending_esmtp_ = false;  // ... given with EHLO

    // Transaction state, reset by RSET, EHLO/HELO, and the end of each message.
    bool in_transaction_ = false;     // MAIL accepted
    std::size_t rcpt_attempts_ = 0;   // RCPT commands in this transaction
    std::size_t rcpt_overshoot_ = 0;  // RCPT commands refused for the recipient limit
    Envelope envelope_;
    MailCommand pending_mail_;
    RcptCommand pending_rcpt_;
    bool message_begun_ = false;  // kBeginMessage emitted, not yet committed or aborted
    bool bdat_used_ = false;      // a BDAT chunk was sent in this transaction
    std::uint64_t message_size_ = 0;
    std::string body_;    // decoded message bytes not yet handed out
    TextScan text_scan_;  // hop count and NUL octets of the message under way

    // DATA state.
    DataDecoder decoder_{{}};

    // BDAT chunk state.
    std::uint64_t chunk_left_ = 0;  // octets of the current chunk still to read
    bool chunk_last_ = false;
    bool chunk_discard_ = false;  // the chunk is read and dropped; chunk_error_ follows
    Reply chunk_error_;
};

}  // namespace tern::smtp
