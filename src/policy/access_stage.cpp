// AccessStage: sender ownership at MAIL and the recipient decision at RCPT (RecipientPolicy),
// asking the account store about a local part the directory does not know.
#include "policy/access_stage.h"

#include <ctime>

namespace tern::policy {
namespace {

using smtp::ReplyName;

// The log's word for a refused recipient.
std::string reason_of(const smtp::Reply& reply) {
    if (reply.status == "5.1.1") return "unknown user";
    if (reply.status == "5.4.6") return "alias loop";
    if (reply.status == "5.7.1") return "relay denied";
    return "account store unavailable";
}

pipeline::Verdict refuse(smtp::Reply reply, std::string reason) {
    if (reply.code >= 500) return pipeline::Verdict::reject(std::move(reply), std::move(reason));
    return pipeline::Verdict::defer(std::move(reply), std::move(reason));
}

}  // namespace

AccessStage::AccessStage(AccessOptions options) : options_(std::move(options)) {
    if (!options_.now) options_.now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
}

boost::asio::awaitable<pipeline::Verdict> AccessStage::on_mail(const pipeline::SessionInfo& session,
                                                               const smtp::MailCommand& mail) {
    if (session.auth_user.empty() || !options_.senders) co_return pipeline::Verdict::next();
    // RFC 6409 6.1: an authenticated client may only use the senders its account owns.
    std::string sender = mail.sender.mailbox ? mail.sender.mailbox->str() : "";
    if (options_.senders->owns(session.auth_user, sender, options_.recipient_delimiter))
        co_return pipeline::Verdict::next();
    co_return pipeline::Verdict::reject(
        smtp::reply(ReplyName::kSenderNotOwned,
                    "Sender address <" + sender + "> is not owned by " + session.auth_user),
        "sender not owned");
}

boost::asio::awaitable<smtp::Reply> AccessStage::check_recipient(const smtp::ForwardPath& path,
                                                                 const ClientFacts& facts) const {
    smtp::Reply reply = options_.recipients->check(path, facts, options_.now());
    if (reply.code == 550 && reply.status == "5.1.1" && options_.account_exists &&
        !options_.recipients->is_srs(path) && !options_.recipients->is_bounce_address(path)) {
        // An account of `tern user` is a mailbox too (an SRS or bounce address never is: its
        // signature alone decides, even when the account store is down).
        auto exists = co_await options_.account_exists(path.mailbox.str());
        if (!exists)
            co_return smtp::reply(ReplyName::kLocalError,
                                  "Cannot check the recipient now, try again later");
        if (*exists) co_return smtp::reply(ReplyName::kRecipientOk);
    }
    co_return reply;
}

boost::asio::awaitable<pipeline::Verdict> AccessStage::on_rcpt(const pipeline::SessionInfo& session,
                                                               const smtp::MailCommand& mail,
                                                               const smtp::RcptCommand& rcpt) {
    ClientFacts facts{session.client_ip, session.trusted, mail.sender.null()};
    smtp::Reply reply = co_await check_recipient(rcpt.recipient, facts);
    if (reply.positive()) co_return pipeline::Verdict::next();
    std::string reason = reason_of(reply);
    co_return refuse(std::move(reply), std::move(reason));
}

}  // namespace tern::policy
