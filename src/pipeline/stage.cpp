// Stage defaults (a hook a stage does not have lets everything continue) and the MessageView
// edits.
#include "pipeline/stage.h"

#include <algorithm>

#include "base/text.h"

namespace tern::pipeline {

std::string_view source_name(Source source) {
    switch (source) {
        case Source::kMx:
            return "mx";
        case Source::kSubmission:
            return "submission";
        case Source::kLocal:
            return "local";
        case Source::kApi:
            return "api";
    }
    return "mx";
}

Verdict Verdict::reject(smtp::Reply reply, std::string reason) {
    return Verdict{Kind::kReject, std::move(reply), std::move(reason), {}, {}};
}
Verdict Verdict::defer(smtp::Reply reply, std::string reason) {
    return Verdict{Kind::kDefer, std::move(reply), std::move(reason), {}, {}};
}
Verdict Verdict::discard(std::string reason) {
    return Verdict{Kind::kDiscard, {}, std::move(reason), {}, {}};
}
Verdict Verdict::hold(std::string reason) {
    return Verdict{Kind::kHold, {}, std::move(reason), {}, {}};
}
Verdict Verdict::score(std::string name, double points) {
    Verdict v;
    v.scores.push_back(ScoreItem{std::move(name), points});
    return v;
}

void add_score(std::vector<ScoreItem>& items, ScoreItem item) {
    for (auto& existing : items)
        if (existing.name == item.name) {
            existing.points = item.points;
            return;
        }
    items.push_back(std::move(item));
}

std::string_view strip_brackets(std::string_view address) {
    if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
        address = address.substr(1, address.size() - 2);
    return address;
}

bool same_envelope_address(std::string_view a, std::string_view b) {
    a = strip_brackets(a);
    b = strip_brackets(b);
    auto at_a = a.rfind('@');
    auto at_b = b.rfind('@');
    if (at_a == std::string_view::npos || at_b == std::string_view::npos)
        return at_a == at_b && ascii_iequals(a, b);  // "postmaster" in any case
    return a.substr(0, at_a) == b.substr(0, at_b) &&
           ascii_iequals(a.substr(at_a + 1), b.substr(at_b + 1));
}

MessageView::MessageView(const SessionInfo& session, const spool::Message& envelope,
                         std::vector<std::string> fields, std::uint64_t body_octets)
    : session_(session),
      envelope_(envelope),
      fields_(std::move(fields)),
      body_octets_(body_octets),
      sender_(envelope.sender) {
    for (const auto& r : envelope.recipients) {
        const std::string& address = r.original.empty() ? r.address : r.original;
        bool seen =
            std::ranges::any_of(recipients_, [&](const auto& e) { return e.first == address; });
        if (!seen) recipients_.emplace_back(address, std::string());
    }
}

void MessageView::change_sender(std::string address, std::string args) {
    sender_ = std::string(strip_brackets(address));
    sender_args_ = args;
    envelope_edits_.push_back(EnvelopeEdit{EnvelopeEdit::Kind::kChangeSender, std::move(address),
                                           std::move(args), stage_});
}

void MessageView::add_recipient(std::string address, std::string args) {
    recipients_.emplace_back(std::string(strip_brackets(address)), args);
    envelope_edits_.push_back(EnvelopeEdit{EnvelopeEdit::Kind::kAddRecipient, std::move(address),
                                           std::move(args), stage_});
}

void MessageView::delete_recipient(std::string address) {
    std::erase_if(recipients_,
                  [&](const auto& r) { return same_envelope_address(r.first, address); });
    envelope_edits_.push_back(
        EnvelopeEdit{EnvelopeEdit::Kind::kDeleteRecipient, std::move(address), {}, stage_});
}

void MessageView::replace_body(std::string body) {
    body_octets_ = body.size();
    body_ = std::move(body);
    ++body_version_;
}

void MessageView::apply(message::HeaderEdit edit) {
    std::vector<message::HeaderEdit> one{edit};
    delta_ += message::edits_size_delta(fields_, one);
    message::apply_edits(fields_, one);
    edits_.push_back(std::move(edit));
}

void MessageView::prepend(std::string field) {
    apply(message::HeaderEdit{message::HeaderEdit::Kind::kPrepend, 0, std::move(field)});
}
void MessageView::insert(std::size_t index, std::string field) {
    apply(message::HeaderEdit{message::HeaderEdit::Kind::kInsert, index, std::move(field)});
}
void MessageView::remove(std::size_t index) {
    apply(message::HeaderEdit{message::HeaderEdit::Kind::kRemove, index, {}});
}

boost::asio::awaitable<Verdict> Stage::on_connect(const SessionInfo&) {
    co_return Verdict::next();
}
boost::asio::awaitable<Verdict> Stage::on_helo(const SessionInfo&) {
    co_return Verdict::next();
}
boost::asio::awaitable<Verdict> Stage::on_mail(const SessionInfo&, const smtp::MailCommand&) {
    co_return Verdict::next();
}
boost::asio::awaitable<Verdict> Stage::on_rcpt(const SessionInfo&, const smtp::MailCommand&,
                                               const smtp::RcptCommand&) {
    co_return Verdict::next();
}
std::unique_ptr<MessageFilter> Stage::start_message(const SessionInfo&, const spool::Message&) {
    return nullptr;
}

}  // namespace tern::pipeline
