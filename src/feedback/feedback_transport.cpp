// FeedbackTransport: one read of the report's text (bounded), one parse, then per recipient
// address of the job the events its report makes. Only a report that came to a VERP address
// whose tag holds, or that carries one (a complaint's Original-Mail-From or the returned
// message's Return-Path), is matched: anyone can send a report, and an unmatched one must not
// put an address of its choosing on the suppression list.
#include "feedback/feedback_transport.h"

#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "base/text.h"
#include "spool/text_reader.h"

namespace tern::feedback {
namespace asio = boost::asio;
namespace {

bool starts_with_code(std::string_view s) {
    return s.size() >= 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
           s[2] >= '0' && s[2] <= '9' && (s.size() == 3 || s[3] == ' ' || s[3] == '-');
}

// The reply an event shows: the remote server's own when the report quotes it, else the status
// and the report's text.
std::string reply_of(const RecipientReport& r) {
    if (starts_with_code(r.diagnostic)) return r.diagnostic;
    std::string out = r.status;
    if (!r.diagnostic.empty()) out += (out.empty() ? "" : " ") + r.diagnostic;
    return out;
}

// What the classifier reads: the reply with a code of the status's class in front when the
// report gave no code ("5.1.1 user unknown" is classified as "550 5.1.1 user unknown").
std::string classified_text(const RecipientReport& r) {
    std::string reply = reply_of(r);
    if (starts_with_code(reply) || r.status.empty()) return reply;
    return std::string(1, r.status[0]) + "50 " + reply;
}

// The recipient block a report about `recipient` means: the one naming it, else the first that
// failed or was delayed, else the first.
const RecipientReport* block_for(const Report& report, std::string_view recipient) {
    for (const auto& r : report.recipients)
        if (ascii_iequals(r.recipient, recipient) || ascii_iequals(r.original_recipient, recipient))
            return &r;
    for (const auto& r : report.recipients)
        if (r.action == "failed" || r.action == "delayed") return &r;
    return report.recipients.empty() ? nullptr : &report.recipients.front();
}

}  // namespace

std::string recipient_category(const RecipientReport& r,
                               const bounce::BounceClassifier& classifier) {
    return classifier.classify(classified_text(r));
}

std::vector<std::string> verp_addresses(const Report& report, std::string_view to) {
    std::vector<std::string> out{std::string(to)};
    for (const std::string* a : {&report.original_mail_from, &report.original_return_path})
        if (!a->empty()) out.push_back(*a);
    return out;
}

std::optional<VerpTarget> full_target(const Report& report, std::string_view to,
                                      const VerpCodec& verp) {
    for (const auto& a : verp_addresses(report, to))
        if (auto t = verp.decode(a); t && !t->recipient.empty()) return t;
    return std::nullopt;
}

std::vector<events::Event> report_events(const Report& report, const VerpTarget& target,
                                         const bounce::BounceClassifier* classifier,
                                         std::int64_t now) {
    std::vector<events::Event> out;
    if (report.kind == ReportKind::kNone || target.recipient.empty()) return out;
    const VerpTarget* t = &target;
    events::Event e;
    e.time = now;
    e.id = t->id;
    e.recipient = t->recipient;
    e.report = std::string(kind_name(report.kind));
    if (report.kind == ReportKind::kComplaint) {
        // RFC 5965 3.1: "not-spam" takes a complaint back; RFC 6591's "auth-failure" reports
        // are about authentication, not the recipient's wish.
        std::string type = report.feedback_type.empty() ? "abuse" : report.feedback_type;
        if (type == "not-spam" || type == "auth-failure") return out;
        e.type = "complained";
        e.category = type;
        e.remote_host = report.reporting_mta.empty() ? report.user_agent : report.reporting_mta;
        out.push_back(std::move(e));
        return out;
    }
    const RecipientReport* r = block_for(report, t->recipient);
    if (!r) return out;
    if (r->action == "failed")
        e.type = "bounced";
    else if (r->action == "delayed")
        e.type = "deferred";
    else
        return out;  // delivered, relayed, expanded: nothing went wrong
    e.reply = reply_of(*r);
    e.remote_host = r->remote_mta.empty() ? report.reporting_mta : r->remote_mta;
    if (classifier) e.category = recipient_category(*r, *classifier);
    out.push_back(std::move(e));
    return out;
}

asio::awaitable<std::vector<queue::RecipientResult>> FeedbackTransport::deliver(
    queue::DeliveryJob job) {
    const spool::Message& m = *job.message;
    std::vector<queue::RecipientResult> results;
    auto result = [&](std::size_t i, queue::Outcome outcome, std::string reply) {
        queue::RecipientResult r;
        r.index = i;
        r.outcome = outcome;
        r.reply = std::move(reply);
        r.remote_host = "feedback";
        results.push_back(std::move(r));
    };
    auto defer_all = [&](const std::string& why) {
        for (auto i : job.recipients)
            result(i, queue::Outcome::kDeferred, "451 4.3.0 Cannot read the report: " + why);
    };
    auto source = spool_.open_message(m.id);
    if (!source) {
        defer_all(source.error().message);
        co_return results;
    }
    spool::TextReader text(source->get(), m);
    if (text.failed()) {
        defer_all("spool file " + m.id);
        co_return results;
    }
    std::string body(std::min<std::uint64_t>(text.size(), options_.max_read), '\0');
    body.resize(text.read_at(0, body.data(), body.size()));
    Report report = read_report(body, options_.limits);
    std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    for (auto i : job.recipients) {
        const auto& to = m.recipients[i].address;
        // The message and recipient the report is about: a full VERP address carries them, a
        // compact one names the message, whose recipients the sent index has.
        std::optional<VerpTarget> target;
        std::optional<SentOrigin> origin;
        std::string lookup_error;  // the sent index could not be read
        for (const auto& address : verp_addresses(report, to)) {
            auto t = inbox_.verp().decode(address);
            if (!t || (t->recipient.empty() && !sent_)) continue;
            origin.reset();
            if (sent_) {
                // A named job: g++ 12 destroys a lambda temporary of a co_await twice.
                auto find = [id = t->id](Result<SentDb*> db) -> Result<std::optional<SentOrigin>> {
                    if (!db) return std::unexpected(db.error());
                    return (*db)->find(id);
                };
                auto found = co_await sent_->async_run<Result<std::optional<SentOrigin>>>(
                    std::move(find), asio::use_awaitable);
                if (found)
                    origin = std::move(*found);
                else
                    lookup_error = found.error().message;
            }
            if (t->recipient.empty() && origin)
                for (const auto& candidate : origin->recipients)
                    if (inbox_.verp().holds(*t, candidate)) {
                        t->recipient = ascii_lower(candidate);
                        break;
                    }
            if (t->recipient.empty()) continue;
            target = std::move(t);
            break;
        }
        if (!target && !lookup_error.empty()) {
            // Not "none of ours": the index may know it once it can be read again.
            log_.error("feedback", {{"id", m.id}, {"to", to}, {"error", lookup_error}});
            result(i, queue::Outcome::kDeferred,
                   "451 4.3.0 Cannot read the sent index: " + lookup_error);
            continue;
        }
        std::string why;
        std::vector<events::Event> made;
        if (report.kind == ReportKind::kNone) {
            why = report.why;
        } else if (!target) {
            why = "no message of ours named";
        } else if (report.kind == ReportKind::kBounce && !m.sender.empty()) {
            // RFC 5321 4.5.5: notices come from <>; a text from a sender is a person's or an
            // auto-responder's, however it reads.
            why = "a text notice from a sender other than <>";
        } else {
            made = report_events(report, *target, classifier_, now);
            if (made.empty()) why = "nothing failed";
        }
        std::string outcome = made.empty() ? "none" : made.front().type;
        if (made.empty())
            log_.info("feedback", {{"id", m.id},
                                   {"to", to},
                                   {"from", m.sender},
                                   {"report", kind_name(report.kind)},
                                   {"result", "ignored"},
                                   {"reason", why}});
        for (auto& e : made) {
            if (origin) {
                e.sender = origin->sender;
                e.source = origin->source;
                e.auth = origin->auth;
            }
            log_.info("feedback", {{"id", m.id},
                                   {"to", to},
                                   {"from", m.sender},
                                   {"report", e.report},
                                   {"result", e.type},
                                   {"message", e.id},
                                   {"recipient", e.recipient},
                                   {"reply", e.reply},
                                   {"category", e.category}});
            if (events_) events_->record(std::move(e));
        }
        result(
            i, queue::Outcome::kDelivered,
            "250 2.0.0 Report read (" + std::string(kind_name(report.kind)) + ": " + outcome + ")");
    }
    co_return results;
}

}  // namespace tern::feedback
