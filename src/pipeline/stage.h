// Stage: one step of the message pipeline (docs/pipeline.md): checks at connect, HELO, MAIL and
// RCPT, and a filter that sees each header field and the body as it streams in and decides at
// the end of the message. SPF/DKIM/DMARC/ARC verification, DKIM signing, and later policy
// checks and milters are stages.
#pragma once

#include <any>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "message/header_edit.h"
#include "smtp/command.h"
#include "smtp/replies.h"
#include "spool/message.h"

namespace tern::pipeline {

// Where a message came in: decides which stages a listener runs.
enum class Source { kMx, kSubmission, kLocal, kApi };
std::string_view source_name(Source source);

// What the stages know about the client. Filled by the driver (server, queue, API).
struct SessionInfo {
    Source source = Source::kMx;
    std::string client_ip;      // "192.0.2.1"; "127.0.0.1" for local notices
    std::string client_name;    // verified reverse DNS name; empty when unknown
    std::string helo;           // the EHLO/HELO argument; our own name for local notices
    std::string auth_user;      // the authenticated account; empty when none
    bool tls = false;           // the session is protected by TLS
    std::string tls_version{};  // "TLSv1.3" when tls; empty otherwise
    bool trusted = false;       // may relay: authenticated, or in relay.trusted_networks; local
};

// A stage's decision. kContinue lets the next stage (or the normal course) go on; the others
// end the command or the message with `reply` (kReject 5xx, kDefer 4xx), accept the message
// and drop it (kDiscard), or accept it and keep it on hold in the queue (kHold).
struct Verdict {
    enum class Kind { kContinue, kReject, kDefer, kDiscard, kHold };
    Kind kind = Kind::kContinue;
    smtp::Reply reply;   // sent to the client for kReject and kDefer, exactly as given
    std::string reason;  // why, for the log
    std::string stage;   // which stage decided; filled by the pipeline

    static Verdict next() { return {}; }
    static Verdict reject(smtp::Reply reply, std::string reason);
    static Verdict defer(smtp::Reply reply, std::string reason);
    static Verdict discard(std::string reason);
    static Verdict hold(std::string reason);
    bool final() const { return kind != Kind::kContinue; }
};

// The message as end-of-message hooks see it: its envelope, its header section with the edits
// of the stages before (a stage sees their changes), and the facts earlier stages recorded.
class MessageView {
  public:
    MessageView(const SessionInfo& session, const spool::Message& envelope,
                std::vector<std::string> fields, std::uint64_t body_octets)
        : session_(session),
          envelope_(envelope),
          fields_(std::move(fields)),
          body_octets_(body_octets) {}

    const SessionInfo& session() const { return session_; }
    const spool::Message& envelope() const { return envelope_; }
    // The header fields, raw (with their CRLF), top first, after the edits made so far.
    const std::vector<std::string>& fields() const { return fields_; }
    // Octets of body seen.
    std::uint64_t body_octets() const { return body_octets_; }

    // Header edits; each applies to fields() at once and is kept for the spool.
    void prepend(std::string field);
    void insert(std::size_t index, std::string field);
    void remove(std::size_t index);
    const std::vector<message::HeaderEdit>& edits() const { return edits_; }
    long long edits_delta() const { return delta_; }

    // Results a stage leaves for later ones (the SPF result for DMARC, say), by name.
    std::map<std::string, std::any>& facts() { return facts_; }

  private:
    void apply(message::HeaderEdit edit);

    const SessionInfo& session_;
    const spool::Message& envelope_;
    std::vector<std::string> fields_;
    std::uint64_t body_octets_ = 0;
    std::vector<message::HeaderEdit> edits_;
    long long delta_ = 0;
    std::map<std::string, std::any> facts_;
};

// One stage's view of one message. The streamed hooks run as the text arrives and must not
// block or wait; the end hook may await (DNS).
class MessageFilter {
  public:
    virtual ~MessageFilter() = default;
    virtual void on_header(std::string_view raw_field) { (void)raw_field; }
    virtual void on_end_of_headers() {}
    virtual void on_body(std::string_view chunk) { (void)chunk; }
    virtual boost::asio::awaitable<Verdict> on_end(MessageView& message) = 0;
};

// Which hooks a stage has, so that the pipeline awaits only those.
enum Hook : unsigned {
    kOnConnect = 1u << 0,
    kOnHelo = 1u << 1,
    kOnMail = 1u << 2,
    kOnRcpt = 1u << 3,
    kOnMessage = 1u << 4,  // start_message() gives a filter
};

class Stage {
  public:
    virtual ~Stage() = default;
    virtual std::string_view name() const = 0;
    virtual unsigned hooks() const = 0;  // a set of Hook

    virtual boost::asio::awaitable<Verdict> on_connect(const SessionInfo& session);
    virtual boost::asio::awaitable<Verdict> on_helo(const SessionInfo& session);
    virtual boost::asio::awaitable<Verdict> on_mail(const SessionInfo& session,
                                                    const smtp::MailCommand& mail);
    virtual boost::asio::awaitable<Verdict> on_rcpt(const SessionInfo& session,
                                                    const smtp::MailCommand& mail,
                                                    const smtp::RcptCommand& rcpt);
    // A filter for one message, or nullptr when this stage does not look at it.
    virtual std::unique_ptr<MessageFilter> start_message(const SessionInfo& session,
                                                         const spool::Message& envelope);
    // The daemon is stopping: end at once any wait on something outside (a milter), so that
    // no message waits for it; those messages get the stage's failure verdict. May be called
    // from any thread.
    virtual void stop() {}
};

}  // namespace tern::pipeline
