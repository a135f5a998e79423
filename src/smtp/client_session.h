// ClientSession: the client side of SMTP (RFC 5321) as a sans-I/O state machine for relaying:
// greeting, EHLO (HELO fallback), STARTTLS, and transactions with PIPELINING, CHUNKING, SIZE,
// 8BITMIME, SMTPUTF8, DSN and REQUIRETLS (RFC 8689) as the server offers them, within its LIMITS
// (RFC 9422). Server replies are untrusted input. With ClientOptions::lmtp it speaks LMTP
// (RFC 2033) instead: LHLO, and one reply per accepted recipient after the data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/envelope.h"
#include "smtp/limits.h"
#include "smtp/replies.h"
#include "smtp/reply_parser.h"

namespace tern::smtp {

// What the server offered in its EHLO reply.
struct Capabilities {
    bool esmtp = false;
    bool pipelining = false;
    bool size = false;
    std::uint64_t size_limit = 0;  // 0 = no limit given
    bool eight_bit_mime = false;
    bool smtputf8 = false;
    bool dsn = false;
    bool chunking = false;
    bool starttls = false;
    bool requiretls = false;  // RFC 8689; counts only in the EHLO reply under TLS
    bool enhanced_status = false;
    std::vector<std::string> auth;
    ServerLimits limits;  // RFC 9422 LIMITS; all 0 when not offered
};

Capabilities parse_ehlo(const Reply& reply);

struct ClientOptions {
    std::string helo_name;  // our host name for EHLO/HELO
    bool use_pipelining = true;
    bool use_chunking = true;
    bool starttls = false;     // issue STARTTLS when the server offers it
    bool require_tls = false;  // without TLS the session fails (4.7.4 / 4.7.5)
    bool lmtp = false;  // RFC 2033: LHLO (no HELO fallback), a reply per recipient at the end
};

struct OutboundRecipient {
    std::string address;  // without brackets
    DsnNotify notify;
    std::string orcpt;  // "type;address" decoded, or empty
};

struct OutboundMessage {
    std::string sender;  // without brackets; empty for <>
    std::uint64_t size = 0;
    BodyType body = BodyType::kUnspecified;
    bool eight_bit = false;  // the text really holds octets above 127
    bool smtputf8 = false;
    DsnRet ret = DsnRet::kUnspecified;
    std::string envid;
    // RFC 8689: MAIL FROM carries REQUIRETLS; refused (550 5.7.30) unless the session is under
    // TLS and the server offered REQUIRETLS there. The caller checks the certificate.
    bool requiretls = false;
    std::vector<OutboundRecipient> recipients;
};

enum class ClientActionKind {
    kSend,      // write `data` to the server
    kStartTls,  // do the TLS handshake now, then call tls_started()
    kSendBody,  // stream the message text: as DATA text through a DataEncoder when `data` is
                // empty, else `data` is the BDAT command to write before the raw text
    kReady,     // the session is established: send_message() may be called
    kDone,      // the transaction is over: result() has one reply per recipient
    kFailed,    // the session cannot be used: failure() says why; close the connection
};

struct ClientAction {
    ClientActionKind kind;
    std::string data;
};

class ClientSession {
  public:
    explicit ClientSession(ClientOptions options);

    // Bytes from the server.
    void receive(std::string_view bytes);

    // In the ready state: starts a transaction for `message`.
    void send_message(const OutboundMessage& message);
    // In the ready state: RSET before reusing a connection; kReady follows its 250.
    void reset();
    // Sends QUIT; the driver closes after writing it.
    void quit();
    // The TLS handshake asked for with kStartTls finished.
    void tls_started(bool ok);

    std::vector<ClientAction> take_actions();

    // What the session waits for, so the driver can pick the RFC 5321 4.5.3.2 timeout.
    enum class Waiting { kNothing, kGreeting, kCommand, kDataReady, kDataEnd };
    Waiting waiting() const;

    // MAIL commands sent on this connection so far.
    std::size_t transactions() const { return transactions_; }
    // True when the server's MAILMAX (RFC 9422) allows no further transaction on this connection.
    bool transaction_limit_reached() const {
        return caps_.limits.mail_max != 0 && transactions_ >= caps_.limits.mail_max;
    }

    bool ready() const { return state_ == State::kReady; }
    bool failed() const { return state_ == State::kFailed; }
    const Capabilities& capabilities() const { return caps_; }
    bool tls_active() const { return tls_active_; }
    // The server offered REQUIRETLS in its EHLO reply under TLS (RFC 8689 section 2).
    bool requiretls_offered() const { return tls_active_ && caps_.requiretls; }
    // Per recipient of the last transaction: the reply that decides its fate.
    const std::vector<Reply>& result() const { return results_; }
    // The last transaction's recipient `i` has its reply to the end of the data: whatever
    // happens to the connection next, that reply stands (with LMTP each gets its own).
    bool answered_after_data(std::size_t i) const {
        return i < after_data_.size() && after_data_[i];
    }
    // Why the session failed (a 4xx/5xx reply, or a synthesised 4xx for protocol errors).
    const Reply& failure() const { return failure_; }
    // Which step the failure or reply belongs to: "greeting", "EHLO", "MAIL FROM", ...
    const std::string& failure_stage() const { return failure_stage_; }
    // The session failed because TLS could not be had: not offered, refused, failed, or the
    // server spoke after its STARTTLS reply.
    bool tls_unavailable() const { return tls_unavailable_; }

  private:
    enum class State {
        kGreeting,
        kEhlo,
        kHelo,
        kStartTls,
        kHandshake,
        kReady,
        kTransaction,
        kRset,
        kQuit,
        kFailed
    };
    enum class Expect { kMail, kRcpt, kData, kDataEnd, kRset };

    void on_reply(const Reply& reply);
    void on_transaction_reply(const Reply& reply);
    void after_recipients();
    void finish_transaction();
    void fail(Reply reply, std::string stage);
    void fail_tls(Reply reply, std::string stage);
    void send(std::string text) { emit(ClientActionKind::kSend, std::move(text)); }
    void emit(ClientActionKind kind, std::string data = {});
    std::string hello_command() const;  // EHLO, or LHLO for LMTP
    // Expects the reply (SMTP) or replies (LMTP) that end the data.
    void expect_data_end();
    std::string mail_command() const;
    std::string rcpt_command(const OutboundRecipient& r) const;

    ClientOptions options_;
    ReplyParser parser_;
    std::vector<ClientAction> actions_;
    State state_ = State::kGreeting;
    Capabilities caps_;
    bool tls_active_ = false;
    Reply failure_;
    std::string failure_stage_;
    bool tls_unavailable_ = false;  // the failure is that TLS could not be had
    std::size_t transactions_ = 0;  // MAIL commands sent on this connection

    // Transaction.
    OutboundMessage message_;
    std::vector<Expect> expected_;  // replies still to come, in order
    std::size_t next_rcpt_reply_ = 0;
    std::size_t next_rcpt_send_ = 0;  // without pipelining: next RCPT to send
    bool pipelined_ = false;
    bool chunked_ = false;
    bool mail_ok_ = false;
    bool data_sent_ = false;   // DATA was sent (pipelined with the RCPTs)
    bool needs_rset_ = false;  // a transaction is open on the server without a message
    std::vector<Reply> results_;
    // LMTP: the recipients accepted at RCPT, in order, each owed its own reply after the data
    // (RFC 2033 4.2); and how many of those replies have come.
    std::vector<std::size_t> lmtp_owed_;
    std::vector<bool> after_data_;  // per recipient: results_ holds the data-end reply
    std::size_t lmtp_answered_ = 0;
};

}  // namespace tern::smtp
