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
#include <optional>
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

// Points a check adds to the message's score (docs/pipeline.md, "Scores"): positive for spam
// signs, negative for good ones. A name counts once per transaction (the latest points).
struct ScoreItem {
    std::string name;  // "dnsbl", "content:header_checks:12"
    double points = 0;
    bool operator==(const ScoreItem&) const = default;
};

// `item` into `items`, replacing an item of the same name.
void add_score(std::vector<ScoreItem>& items, ScoreItem item);

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
    std::vector<ScoreItem> scores{};  // what the session's checks added (connect ... RCPT)
};

// A stage's decision. kContinue lets the next stage (or the normal course) go on; the others
// end the command or the message with `reply` (kReject 5xx, kDefer 4xx), accept the message
// and drop it (kDiscard), or accept it and keep it on hold in the queue (kHold).
struct Verdict {
    enum class Kind { kContinue, kReject, kDefer, kDiscard, kHold };
    Kind kind = Kind::kContinue;
    smtp::Reply reply;                // sent to the client for kReject and kDefer, exactly as given
    std::string reason;               // why, for the log
    std::string stage;                // which stage decided; filled by the pipeline
    std::vector<ScoreItem> scores{};  // points added to the message's score, whatever the kind

    static Verdict next() { return {}; }
    // Goes on, adding `points` to the score under `name`.
    static Verdict score(std::string name, double points);
    static Verdict reject(smtp::Reply reply, std::string reason);
    static Verdict defer(smtp::Reply reply, std::string reason);
    static Verdict discard(std::string reason);
    static Verdict hold(std::string reason);
    bool final() const { return kind != Kind::kContinue; }
};

// A change of the envelope a stage asks for (a milter's chgfrom, addrcpt, addrcpt_par, delrcpt).
// The driver carries them out in order before the commit (docs/filters.md): it routes an added
// recipient as an RCPT would be, and deletes every recipient whose RCPT address matches.
struct EnvelopeEdit {
    enum class Kind { kChangeSender, kAddRecipient, kDeleteRecipient };
    Kind kind = Kind::kAddRecipient;
    std::string address;  // as the stage gave it, with or without angle brackets; "" or "<>" = null
    std::string args;     // ESMTP parameters ("RET=HDRS ENVID=x", "NOTIFY=NEVER"); may be empty
    std::string stage;    // which stage asked; filled by the pipeline
    bool operator==(const EnvelopeEdit&) const = default;
};

// True when two envelope addresses name the same mailbox as a delrcpt matches them (as Postfix
// does, on the address the client gave in RCPT): angle brackets ignored, local part exact, domain
// in any case.
bool same_envelope_address(std::string_view a, std::string_view b);
// `address` without its angle brackets, if it has them.
std::string_view strip_brackets(std::string_view address);

// The message as end-of-message hooks see it: its envelope, its header section with the edits
// of the stages before (a stage sees their changes), and the facts earlier stages recorded.
class MessageView {
  public:
    MessageView(const SessionInfo& session, const spool::Message& envelope,
                std::vector<std::string> fields, std::uint64_t body_octets);

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

    // Envelope changes; each applies to sender() and recipients() at once and is kept for the
    // driver, which carries them out on the stored envelope.
    void change_sender(std::string address, std::string args);
    void add_recipient(std::string address, std::string args);
    void delete_recipient(std::string address);
    const std::vector<EnvelopeEdit>& envelope_edits() const { return envelope_edits_; }
    // The sender ("" for <>) and its ESMTP parameters, and each recipient as the client gave it
    // in RCPT (an alias that expanded counts once), after the changes made so far.
    const std::string& sender() const { return sender_; }
    const std::string& sender_args() const { return sender_args_; }
    const std::vector<std::pair<std::string, std::string>>& recipients() const {
        return recipients_;
    }

    // Replaces the body (the text after the header section; CRLF line ends). Stages after this
    // one get it through MessageFilter::on_body_replaced.
    void replace_body(std::string body);
    const std::optional<std::string>& replaced_body() const { return body_; }
    // Counts the replacements, so that the pipeline can tell a new one.
    unsigned body_version() const { return body_version_; }

    // Results a stage leaves for later ones (the SPF result for DMARC, say), by name.
    std::map<std::string, std::any>& facts() { return facts_; }

    // The stage whose end hook runs now (set by the pipeline, named in envelope_edits()).
    void set_stage(std::string stage) { stage_ = std::move(stage); }

  private:
    void apply(message::HeaderEdit edit);

    const SessionInfo& session_;
    const spool::Message& envelope_;
    std::vector<std::string> fields_;
    std::uint64_t body_octets_ = 0;
    std::vector<message::HeaderEdit> edits_;
    long long delta_ = 0;
    std::string sender_;
    std::string sender_args_;
    std::vector<std::pair<std::string, std::string>> recipients_;  // (address, ESMTP args)
    std::vector<EnvelopeEdit> envelope_edits_;
    std::optional<std::string> body_;
    unsigned body_version_ = 0;
    std::string stage_;
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
    // A stage before this one replaced the whole body with `body` (its end hook ran; this one's
    // has not): a filter that hashed or kept the body starts it again from `body`, so that
    // what it signs or passes on is the body that will be stored. The default ignores it.
    virtual void on_body_replaced(std::string_view body) { (void)body; }
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
