// Pipeline: stages in order; a MessageRun splits the text once (message::HeaderSplitter) and
// hands every field and body piece to each filter, then awaits their end hooks in turn.
#include "pipeline/pipeline.h"

#include <cstdio>

namespace tern::pipeline {
namespace asio = boost::asio;

void Pipeline::add(std::shared_ptr<Stage> stage) {
    hooks_ |= stage->hooks();
    stages_.push_back(std::move(stage));
}

namespace {

// The first final verdict of the stages that have `hook`, named after its stage, with the
// score items of the stages before it (or of all of them when none ended it).
template <class Call>
asio::awaitable<Verdict> first_final(const std::vector<std::shared_ptr<Stage>>& stages,
                                     unsigned hook, Call call) {
    std::vector<ScoreItem> scores;
    for (const auto& s : stages) {
        if ((s->hooks() & hook) == 0) continue;
        Verdict v = co_await call(*s);
        for (auto& item : v.scores)
            add_score(scores, std::move(item));
        if (v.final()) {
            v.stage = std::string(s->name());
            v.scores = std::move(scores);
            co_return v;
        }
    }
    Verdict out = Verdict::next();
    out.scores = std::move(scores);
    co_return out;
}

std::string points_text(double points) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", points);
    std::string s = buf;
    if (s.ends_with(".0")) s.resize(s.size() - 2);
    return s;
}

}  // namespace

double score_total(const std::vector<ScoreItem>& items) {
    double total = 0;
    for (const auto& item : items)
        total += item.points;
    return total;
}

std::string describe_score(const std::vector<ScoreItem>& items) {
    std::string parts;
    for (const auto& item : items)
        parts += (parts.empty() ? "" : ", ") + item.name + "=" + points_text(item.points);
    return points_text(score_total(items)) + " (" + parts + ")";
}

namespace {}  // namespace

asio::awaitable<Verdict> Pipeline::connect(const SessionInfo& session) const {
    co_return co_await first_final(stages_, kOnConnect,
                                   [&](Stage& s) { return s.on_connect(session); });
}

asio::awaitable<Verdict> Pipeline::helo(const SessionInfo& session) const {
    co_return co_await first_final(stages_, kOnHelo, [&](Stage& s) { return s.on_helo(session); });
}

asio::awaitable<Verdict> Pipeline::mail(const SessionInfo& session,
                                        const smtp::MailCommand& mail) const {
    co_return co_await first_final(stages_, kOnMail,
                                   [&](Stage& s) { return s.on_mail(session, mail); });
}

asio::awaitable<Verdict> Pipeline::rcpt(const SessionInfo& session, const smtp::MailCommand& mail,
                                        const smtp::RcptCommand& rcpt) const {
    co_return co_await first_final(stages_, kOnRcpt,
                                   [&](Stage& s) { return s.on_rcpt(session, mail, rcpt); });
}

void Pipeline::stop() const {
    for (const auto& s : stages_)
        s->stop();
}

std::unique_ptr<MessageRun> Pipeline::start_message(const SessionInfo& session,
                                                    const spool::Message& envelope) const {
    // Points given at the session hooks need a run even without a message stage: the score's
    // thresholds and field are applied at its end.
    if (!has(kOnMessage) && session.scores.empty()) return nullptr;
    std::vector<std::pair<std::string, std::unique_ptr<MessageFilter>>> filters;
    for (const auto& s : stages_) {
        if ((s->hooks() & kOnMessage) == 0) continue;
        if (auto f = s->start_message(session, envelope))
            filters.emplace_back(std::string(s->name()), std::move(f));
    }
    if (filters.empty() && session.scores.empty()) return nullptr;
    return std::unique_ptr<MessageRun>(
        new MessageRun(session, envelope, limits_, scoring_, std::move(filters)));
}

MessageRun::MessageRun(const SessionInfo& session, const spool::Message& envelope,
                       PipelineLimits limits, ScoreOptions scoring,
                       std::vector<std::pair<std::string, std::unique_ptr<MessageFilter>>> filters)
    : session_(session),
      envelope_(envelope),
      limits_(limits),
      scoring_(scoring),
      filters_(std::move(filters)),
      splitter_(limits.max_header_section) {}

void MessageRun::text(std::string_view bytes) {
    splitter_.feed(bytes, *this);
}

void MessageRun::on_field(std::string_view raw) {
    header_octets_ += raw.size();
    if (header_octets_ > limits_.max_header_section) {
        too_large_ = true;
        return;
    }
    fields_.emplace_back(raw);
    for (auto& [name, f] : filters_)
        f->on_header(raw);
}

void MessageRun::on_end_of_headers(std::string_view separator) {
    separator_seen_ = !separator.empty();
    for (auto& [name, f] : filters_)
        f->on_end_of_headers();
}

void MessageRun::on_body(std::string_view bytes) {
    body_octets_ += bytes.size();
    for (auto& [name, f] : filters_)
        f->on_body(bytes);
}

asio::awaitable<MessageOutcome> MessageRun::finish() {
    splitter_.finish(*this);
    MessageOutcome out;
    if (too_large_ || splitter_.too_large()) {
        out.verdict = Verdict::reject(
            smtp::Reply{552, "5.3.4", "Message header section too large", false},
            "header section over " + std::to_string(limits_.max_header_section) + " octets");
        out.verdict.stage = "pipeline";
        co_return out;
    }
    MessageView view(session_, envelope_, std::move(fields_), body_octets_);
    out.scores = session_.scores;
    unsigned body_version = 0;
    for (auto& [name, f] : filters_) {
        if (view.body_version() != body_version) {
            // An earlier stage replaced the body: this one hashes or keeps the new one.
            body_version = view.body_version();
            f->on_body_replaced(*view.replaced_body());
        }
        view.set_stage(name);
        Verdict v = co_await f->on_end(view);
        for (auto& item : v.scores)
            add_score(out.scores, std::move(item));
        if (v.final()) {
            v.stage = name;
            out.verdict = std::move(v);
            // A hold keeps the message, and the edits made so far with it.
            if (out.verdict.kind != Verdict::Kind::kHold) co_return out;
            break;
        }
    }
    if (apply_score(view, out)) co_return out;
    out.edits = view.edits();
    out.edits_delta = view.edits_delta();
    out.envelope_edits = view.envelope_edits();
    if (view.replaced_body()) {
        out.body = *view.replaced_body();
        // A text without a header/body separator gets one before a body (spool::TextReader).
        long long separator = !separator_seen_ && !out.body->empty() ? 2 : 0;
        out.body_delta = static_cast<long long>(out.body->size()) -
                         static_cast<long long>(body_octets_) + separator;
    }
    co_return out;
}

bool MessageRun::apply_score(MessageView& view, MessageOutcome& out) const {
    if (out.scores.empty()) return false;
    double total = score_total(out.scores);
    std::string described = describe_score(out.scores);
    if (scoring_.reject > 0 && total >= scoring_.reject) {
        out.verdict = Verdict::reject(
            smtp::Reply{550, "5.7.1", "Message refused as spam (score " + points_text(total) + ")",
                        false},
            "score " + described);
        out.verdict.stage = "score";
        return true;
    }
    if (scoring_.hold > 0 && total >= scoring_.hold && !out.verdict.final()) {
        out.verdict = Verdict::hold("score " + described);
        out.verdict.stage = "score";
    }
    if (scoring_.header) view.prepend("X-Tern-Score: " + described + "\r\n");
    return false;
}

}  // namespace tern::pipeline
