// Pipeline: the ordered stages one kind of listener runs (docs/pipeline.md). The session-level
// checks stop at the first stage with a final verdict; a MessageRun streams one message's text
// through every stage's filter and collects their verdicts and header edits at its end.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "message/header_splitter.h"
#include "pipeline/stage.h"

namespace tern::pipeline {

struct PipelineLimits {
    // Octets of header section kept for the stages; a larger one refuses the message (552
    // 5.3.4), as its fields could not all be seen.
    std::size_t max_header_section = 1 << 20;
};

// What a message's score does once every stage has run (docs/pipeline.md, "Scores").
struct ScoreOptions {
    double reject = 0;   // a score at or above this refuses the message (550 5.7.1); 0 = never
    double hold = 0;     // at or above this keeps it on hold in the queue; 0 = never
    bool header = true;  // an X-Tern-Score field when any check added points
};

// "7.5 (dnsbl=3, content:header_checks:4=4.5)": the total and its items, as the field and the
// log show them.
std::string describe_score(const std::vector<ScoreItem>& items);
// The sum of the items' points.
double score_total(const std::vector<ScoreItem>& items);

// How a message ended: the verdict that decided (kContinue: accept), and the header edits,
// envelope changes and body replacement to store with it.
struct MessageOutcome {
    Verdict verdict;
    std::vector<message::HeaderEdit> edits;
    long long edits_delta = 0;  // octets the header edits add to the text
    std::vector<EnvelopeEdit> envelope_edits;
    // The new body, when a stage replaced it, and the octets that adds to the text (the
    // received body's length taken off; a header/body separator the text lacked added).
    std::optional<std::string> body;
    long long body_delta = 0;
    std::vector<ScoreItem> scores;  // every item the session's and the message's checks added
};

class MessageRun : private message::HeaderSink {
  public:
    // The next piece of the message text, as received.
    void text(std::string_view bytes);
    // Runs every stage's end hook in order, each seeing the edits of those before; stops at
    // the first final verdict.
    boost::asio::awaitable<MessageOutcome> finish();

  private:
    friend class Pipeline;
    MessageRun(const SessionInfo& session, const spool::Message& envelope, PipelineLimits limits,
               ScoreOptions scoring,
               std::vector<std::pair<std::string, std::unique_ptr<MessageFilter>>> filters);
    // The score's verdict and field once the stages have run; true when it refused the message.
    bool apply_score(MessageView& view, MessageOutcome& out) const;
    void on_field(std::string_view raw) override;
    void on_end_of_headers(std::string_view separator) override;
    void on_body(std::string_view bytes) override;

    const SessionInfo& session_;
    const spool::Message& envelope_;
    PipelineLimits limits_;
    ScoreOptions scoring_;
    std::vector<std::pair<std::string, std::unique_ptr<MessageFilter>>> filters_;
    message::HeaderSplitter splitter_;
    std::vector<std::string> fields_;
    std::size_t header_octets_ = 0;
    std::uint64_t body_octets_ = 0;
    bool separator_seen_ = false;  // an empty line ended the header section
    bool too_large_ = false;
};

class Pipeline {
  public:
    explicit Pipeline(PipelineLimits limits = {}, ScoreOptions scoring = {})
        : limits_(limits), scoring_(scoring) {}

    void add(std::shared_ptr<Stage> stage);
    bool empty() const { return stages_.empty(); }
    // True when some stage has this hook (the driver may skip the call otherwise).
    bool has(Hook hook) const { return (hooks_ & hook) != 0; }

    boost::asio::awaitable<Verdict> connect(const SessionInfo& session) const;
    boost::asio::awaitable<Verdict> helo(const SessionInfo& session) const;
    boost::asio::awaitable<Verdict> mail(const SessionInfo& session,
                                         const smtp::MailCommand& mail) const;
    boost::asio::awaitable<Verdict> rcpt(const SessionInfo& session, const smtp::MailCommand& mail,
                                         const smtp::RcptCommand& rcpt) const;

    // Stops every stage's outside waits (Stage::stop), at shutdown.
    void stop() const;

    // A run for one message, or nullptr when no stage looks at messages and the session has no
    // score items. `session` and `envelope` must outlive the run.
    std::unique_ptr<MessageRun> start_message(const SessionInfo& session,
                                              const spool::Message& envelope) const;

  private:
    PipelineLimits limits_;
    ScoreOptions scoring_;
    std::vector<std::shared_ptr<Stage>> stages_;
    unsigned hooks_ = 0;
};

// The pipeline in use for one source of mail, which a reload replaces: each message takes the
// one current when it starts and holds it (with its stages) to its end. Safe from any thread.
class PipelineSlot {
  public:
    explicit PipelineSlot(std::shared_ptr<const Pipeline> pipeline)
        : current_(std::move(pipeline)) {}
    std::shared_ptr<const Pipeline> load() const { return current_.load(); }
    void store(std::shared_ptr<const Pipeline> pipeline) { current_.store(std::move(pipeline)); }

  private:
    std::atomic<std::shared_ptr<const Pipeline>> current_;
};

}  // namespace tern::pipeline
