// ContentStage: header fields are judged whole (unfolded) as they arrive, body lines as the
// body streams; the first refusing rule ends the judging, edits and warnings gather, and the
// verdict is given at the end of the message.
#include "policy/content_stage.h"

#include <boost/asio/use_awaitable.hpp>

namespace tern::policy {
namespace {

using pipeline::Verdict;

// A field as header rules see it: unfolded (line breaks removed, the white space that
// continues a line kept), without its final CRLF.
std::string unfolded(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (char c : raw)
        if (c != '\r' && c != '\n') out += c;
    return out;
}

// What a log line shows of a judged line: enough to recognise it, never unbounded.
std::string excerpt(std::string_view line) {
    constexpr std::size_t kMax = 200;
    return std::string(line.substr(0, kMax)) + (line.size() > kMax ? "..." : "");
}

class ContentFilter : public pipeline::MessageFilter {
  public:
    ContentFilter(const ContentOptions& options, log::Logger& log, std::string id)
        : options_(options), log_(log), id_(std::move(id)) {}

    void on_header(std::string_view raw) override {
        if (stopped() || !options_.header_rules) return;
        std::string line = unfolded(raw);
        if (const Rule* rule = judge(*options_.header_rules, line, "header"))
            if (is_edit(rule->action)) edits_.push_back({rule, std::string(raw)});
    }

    void on_body(std::string_view chunk) override {
        if (stopped() || !options_.body_rules || budget_done_) return;
        std::uint64_t left = options_.body_size_limit - judged_octets_;
        if (chunk.size() >= left) {
            chunk = chunk.substr(0, left);
            budget_done_ = true;
        }
        judged_octets_ += chunk.size();
        while (!chunk.empty() && !stopped()) {
            auto eol = chunk.find('\n');
            std::size_t take = eol == std::string_view::npos ? chunk.size() : eol;
            std::size_t room = options_.line_limit - partial_.size();
            if (take > room) {  // a line over the limit: judged a piece at a time
                partial_.append(chunk.substr(0, room));
                chunk.remove_prefix(room);
                body_line();
                continue;
            }
            partial_.append(chunk.substr(0, take));
            if (eol == std::string_view::npos) break;
            chunk.remove_prefix(eol + 1);
            body_line();
        }
        if (budget_done_ && !partial_.empty()) body_line();
    }

    boost::asio::awaitable<Verdict> on_end(pipeline::MessageView& message) override {
        if (!partial_.empty() && !stopped()) body_line();
        if (refusal_) co_return *refusal_;
        for (const auto& edit : edits_)
            apply(message, edit);
        for (const auto& w : warnings_)
            log_.info("content_rule", {{"id", id_},
                                       {"action", "warn"},
                                       {"rule", w.rule->where},
                                       {"in", w.part},
                                       {"text", w.rule->text},
                                       {"line", w.line}});
        Verdict v = keep_ ? *keep_ : Verdict::next();
        v.scores = scores_;
        co_return v;
    }

  private:
    struct Edit {
        const Rule* rule;
        std::string raw;  // the field it applies to, as received
    };
    struct Warning {
        const Rule* rule;
        const char* part;
        std::string line;
    };

    static bool is_edit(RuleAction a) {
        return a == RuleAction::kIgnore || a == RuleAction::kPrepend || a == RuleAction::kReplace;
    }
    bool stopped() const { return refusal_.has_value(); }

    void body_line() {
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        judge(*options_.body_rules, partial_, "body");
        partial_.clear();
    }

    // Judges one line; the rule that matched, for the caller's edits.
    const Rule* judge(const RuleSet& rules, std::string_view line, const char* part) {
        bool too_complex = false;
        const Rule* rule = rules.match(line, &too_complex);
        if (too_complex && !complained_) {
            complained_ = true;
            log_.warn("content_rule_too_complex",
                      {{"id", id_}, {"in", part}, {"line", excerpt(line)}});
        }
        if (!rule) return nullptr;
        std::string reason = std::string(part) + " rule " + rule->where + " (" +
                             std::string(action_name(rule->action)) +
                             (rule->text.empty() ? std::string() : ": " + rule->text) +
                             "): " + excerpt(line);
        switch (rule->action) {
            case RuleAction::kReject:
                refusal_ = Verdict::reject(*rule->reply, reason);
                break;
            case RuleAction::kDefer:
                refusal_ = Verdict::defer(*rule->reply, reason);
                break;
            case RuleAction::kWarn:
                warnings_.push_back({rule, part, excerpt(line)});
                break;
            case RuleAction::kHold:
                if (!keep_) keep_ = Verdict::hold(reason);
                break;
            case RuleAction::kDiscard:
                if (!keep_ || keep_->kind == Verdict::Kind::kHold) keep_ = Verdict::discard(reason);
                break;
            case RuleAction::kScore:
                // Each rule counts once a message, however many lines it matched.
                pipeline::add_score(scores_, {"content:" + rule->where, rule->points});
                break;
            default:
                break;
        }
        return rule;
    }

    // Finds the field as received among the fields after earlier stages' edits.
    static void apply(pipeline::MessageView& message, const Edit& edit) {
        const auto& fields = message.fields();
        std::size_t i = 0;
        while (i < fields.size() && fields[i] != edit.raw)
            ++i;
        if (i == fields.size()) return;  // an earlier stage removed it
        std::string field = edit.rule->text + "\r\n";
        switch (edit.rule->action) {
            case RuleAction::kIgnore:
                message.remove(i);
                break;
            case RuleAction::kPrepend:
                message.insert(i, std::move(field));
                break;
            case RuleAction::kReplace:
                message.remove(i);
                message.insert(i, std::move(field));
                break;
            default:
                break;
        }
    }

    const ContentOptions& options_;
    log::Logger& log_;
    std::string id_;
    std::string partial_;              // the body line being gathered
    std::uint64_t judged_octets_ = 0;  // body octets judged so far
    bool budget_done_ = false;         // body_size_limit reached
    bool complained_ = false;          // a too-complex match was logged
    std::optional<Verdict> refusal_;   // a reject or defer: the end of judging
    std::optional<Verdict> keep_;      // a hold or discard
    std::vector<Edit> edits_;
    std::vector<Warning> warnings_;
    std::vector<pipeline::ScoreItem> scores_;  // SCORE rules that matched
};

}  // namespace

ContentStage::ContentStage(ContentOptions options, log::Logger& log)
    : options_(std::move(options)), log_(log) {}

unsigned ContentStage::hooks() const {
    bool any = (options_.header_rules && !options_.header_rules->empty()) ||
               (options_.body_rules && !options_.body_rules->empty());
    return any ? pipeline::kOnMessage : 0u;
}

std::unique_ptr<pipeline::MessageFilter> ContentStage::start_message(
    const pipeline::SessionInfo&, const spool::Message& envelope) {
    return std::make_unique<ContentFilter>(options_, log_, envelope.id);
}

}  // namespace tern::policy
