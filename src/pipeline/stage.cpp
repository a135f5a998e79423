// Stage defaults (a hook a stage does not have lets everything continue) and the MessageView
// edits.
#include "pipeline/stage.h"

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
    return Verdict{Kind::kReject, std::move(reply), std::move(reason), {}};
}
Verdict Verdict::defer(smtp::Reply reply, std::string reason) {
    return Verdict{Kind::kDefer, std::move(reply), std::move(reason), {}};
}
Verdict Verdict::discard(std::string reason) {
    return Verdict{Kind::kDiscard, {}, std::move(reason), {}};
}
Verdict Verdict::hold(std::string reason) {
    return Verdict{Kind::kHold, {}, std::move(reason), {}};
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
