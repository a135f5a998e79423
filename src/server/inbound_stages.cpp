// InboundConnection, the pipeline's hooks: what the stages are told about the session (connect,
// HELO, MAIL, RCPT; the message's own hooks run from begin_message and commit_message), and how
// their verdicts become replies and `reject` log lines. The decisions themselves are the stages'
// (src/policy/: access first, then the policy checks).
#include <algorithm>
#include <boost/asio/use_awaitable.hpp>

#include "server/inbound_connection.h"
#include "smtp/reply_parser.h"

namespace tern::server {
namespace asio = boost::asio;
using smtp::ReplyName;

const pipeline::SessionInfo& InboundConnection::session_info() {
    if (!info_) info_ = std::make_unique<pipeline::SessionInfo>();
    auto& info = *info_;
    info.source =
        kind_ == ListenerKind::kMx ? pipeline::Source::kMx : pipeline::Source::kSubmission;
    info.client_ip = client_ip_;
    info.helo = session_.helo_name();
    info.auth_user = session_.authenticated_user();
    info.tls = session_.tls_active();
    info.tls_version = tls_version_;
    info.trusted = !info.auth_user.empty() || config_->relay_clients.contains(client_ip_);
    return info;
}

smtp::Reply InboundConnection::pipeline_reply(const pipeline::Verdict& v, smtp::Reply ok,
                                              std::string_view hook, std::string_view address) {
    using Kind = pipeline::Verdict::Kind;
    keep_scores(v, hook);
    if (v.kind != Kind::kReject && v.kind != Kind::kDefer) return ok;
    log_refusal(v.stage, hook, v.reason, address, v.reply);
    return v.reply;
}

// Score items of an accepted command: those of connect and HELO stay for the session (first in
// SessionInfo::scores), those of MAIL and RCPT for the transaction (a new MAIL starts afresh).
void InboundConnection::keep_scores(const pipeline::Verdict& v, std::string_view hook) {
    if (!info_) {
        if (v.scores.empty()) return;
        session_info();
    }
    auto& scores = info_->scores;
    bool session_wide = hook == "connect" || hook == "helo";
    if (hook == "mail") scores.resize(std::min<std::size_t>(scores.size(), session_score_items_));
    if (v.final()) return;
    for (const auto& item : v.scores) {
        if (!session_wide || session_score_items_ == UINT8_MAX) {
            pipeline::add_score(scores, item);
            continue;
        }
        auto same = std::ranges::find(scores, item.name, &pipeline::ScoreItem::name);
        if (same != scores.end() &&
            static_cast<std::size_t>(same - scores.begin()) < session_score_items_) {
            same->points = item.points;
            continue;
        }
        scores.insert(scores.begin() + session_score_items_, item);
        ++session_score_items_;
    }
}

void InboundConnection::log_refusal(std::string_view stage, std::string_view hook,
                                    std::string_view reason, std::string_view address,
                                    const smtp::Reply& reply) {
    std::vector<log::Field> fields{{"client", client_ip_}, {"stage", stage}, {"at", hook}};
    if (!session_.authenticated_user().empty())
        fields.emplace_back("user", session_.authenticated_user());
    // The address goes under the name of its command: from= at MAIL, to= at RCPT.
    if (hook == "mail") fields.emplace_back("from", address);
    if (hook == "rcpt") fields.emplace_back("to", address);
    fields.emplace_back("reason", reason);
    fields.emplace_back("reply", smtp::reply_line(reply));
    ctx_.log.event(log::Level::kInfo, "reject", fields);
    if (ctx_.metrics) ctx_.metrics->rejected(listener_name(kind_), stage, reply);
}

void InboundConnection::count_message(std::string_view result) {
    if (ctx_.metrics) ctx_.metrics->message(listener_name(kind_), result);
}

// The pipeline decides (its access stage first: sender ownership).
asio::awaitable<smtp::Reply> InboundConnection::check_sender() {
    const auto& mail = session_.pending_mail();
    pipeline::Verdict v;
    if (pipeline_ && pipeline_->has(pipeline::kOnMail))
        v = co_await pipeline_->mail(session_info(), mail);
    else
        v = co_await access_only(ctx_.access.on_mail(session_info(), mail));
    co_return pipeline_reply(v, smtp::reply(ReplyName::kSenderOk), "mail",
                             mail.sender.mailbox ? mail.sender.mailbox->str() : std::string("<>"));
}

asio::awaitable<smtp::Reply> InboundConnection::check_helo() {
    smtp::Reply ok = smtp::reply(ReplyName::kOk);
    if (!pipeline_ || !pipeline_->has(pipeline::kOnHelo)) co_return ok;
    pipeline::SessionInfo info = session_info();
    info.helo = session_.pending_helo();
    auto v = co_await pipeline_->helo(info);
    co_return pipeline_reply(v, ok, "helo");
}

// The pipeline decides: its access stage first (local recipients, relay permission), then the
// policy checks.
asio::awaitable<smtp::Reply> InboundConnection::check_recipient() {
    const auto& rcpt = session_.pending_recipient();
    // The MAIL command as accepted: pending_mail() has been moved into the envelope.
    const auto& env = session_.envelope();
    smtp::MailCommand mail{env.sender, env.mail};
    pipeline::Verdict v;
    if (pipeline_ && pipeline_->has(pipeline::kOnRcpt))
        v = co_await pipeline_->rcpt(session_info(), mail, rcpt);
    else
        v = co_await access_only(ctx_.access.on_rcpt(session_info(), mail, rcpt));
    co_return pipeline_reply(v, smtp::reply(ReplyName::kRecipientOk), "rcpt", rcpt.recipient.str());
}

// The daemon's MX and submission pipelines start with the access stage; a context built without
// them (tests of the session) still has it decide, so that nothing is relayed unchecked.
asio::awaitable<pipeline::Verdict> InboundConnection::access_only(
    asio::awaitable<pipeline::Verdict> check) {
    auto v = co_await std::move(check);
    v.stage = ctx_.access.name();
    co_return v;
}

}  // namespace tern::server
