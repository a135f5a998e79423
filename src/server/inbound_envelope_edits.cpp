// InboundConnection, envelope edits: a pipeline stage's (a milter's) change of sender, added and
// deleted recipients, carried out on the stored envelope before the commit (docs/filters.md).
#include <boost/asio/use_awaitable.hpp>

#include "base/unix_time.h"
#include "server/inbound_connection.h"
#include "smtp/command.h"
#include "smtp/reply_parser.h"

namespace tern::server {
namespace asio = boost::asio;
using smtp::ReplyName;
using Edit = pipeline::EnvelopeEdit;

namespace {

// Every parameter a client may give is one a stage may give.
smtp::Offered offered(bool smtputf8) {
    smtp::Offered o;
    o.esmtp = true;
    o.eight_bit_mime = true;
    o.smtputf8 = smtputf8;
    o.dsn = true;
    return o;
}

// "<address>" whether the stage gave the brackets or not.
std::string path_of(std::string_view address) {
    if (address.starts_with('<')) return std::string(address);
    return "<" + std::string(address) + ">";
}

}  // namespace

asio::awaitable<void> InboundConnection::apply_envelope_edits(
    const std::vector<pipeline::EnvelopeEdit>& edits, spool::Message& m) {
    for (const Edit& e : edits) {
        // Parameters a client could not give are dropped with a note; the address stays.
        std::string ignored_args;
        auto note = [&](std::string_view action, std::string_view result, std::string reason) {
            ctx_.log.info("envelope_changed", {{"id", m.id},
                                               {"stage", e.stage},
                                               {"action", action},
                                               {"address", e.address},
                                               {"result", result},
                                               {"reason", std::move(reason)}});
        };
        if (e.kind == Edit::Kind::kChangeSender) {
            auto mail = smtp::parse_mail(
                "FROM:" + path_of(e.address) + (e.args.empty() ? "" : " " + e.args),
                offered(m.smtputf8));
            if (!mail && !e.args.empty()) {
                ignored_args = e.args;
                mail = smtp::parse_mail("FROM:" + path_of(e.address), offered(m.smtputf8));
            }
            if (!mail) {
                note("sender", "invalid", smtp::reply_line(mail.error()));
                continue;
            }
            m.sender = mail->sender.mailbox ? mail->sender.mailbox->str() : "";
            // The DSN parameters of the message follow the new sender when given.
            if (mail->params.ret != smtp::DsnRet::kUnspecified) m.ret = mail->params.ret;
            if (!mail->params.envid.empty()) m.envid = mail->params.envid;
            note("sender", "changed",
                 ignored_args.empty() ? std::string() : "parameters ignored: " + ignored_args);
            continue;
        }
        if (e.kind == Edit::Kind::kDeleteRecipient) {
            // Every delivery address the RCPT address expanded to goes, as in Postfix.
            auto n = std::erase_if(m.recipients, [&](const spool::Recipient& r) {
                return pipeline::same_envelope_address(r.original.empty() ? r.address : r.original,
                                                       e.address);
            });
            if (n > 0)
                note("delete", "deleted", std::to_string(n) + " delivery address(es)");
            else
                note("delete", "not a recipient", {});
            continue;
        }
        auto rcpt =
            smtp::parse_rcpt("TO:" + path_of(e.address) + (e.args.empty() ? "" : " " + e.args),
                             offered(m.smtputf8), m.smtputf8);
        if (!rcpt && !e.args.empty()) {
            ignored_args = e.args;
            rcpt = smtp::parse_rcpt("TO:" + path_of(e.address), offered(m.smtputf8), m.smtputf8);
        }
        if (!rcpt) {
            note("add", "invalid", smtp::reply_line(rcpt.error()));
            continue;
        }
        // Routed as an RCPT would be, but trusted to relay (as Postfix trusts a milter).
        const auto& path = rcpt->recipient;
        // A named value, not a temporary: g++ 12 frees temporaries of a co_await expression
        // too early.
        policy::ClientFacts trusted{client_ip_, true, m.sender.empty()};
        auto reply = co_await ctx_.access.check_recipient(path, trusted);
        if (!reply.positive()) {
            note("add", "invalid", smtp::reply_line(reply));
            continue;
        }
        std::size_t before = m.recipients.size();
        ctx_.policy.expand(smtp::Recipient{path, rcpt->params}, m.recipients);
        note("add", "added",
             std::to_string(m.recipients.size() - before) + " delivery address(es)" +
                 (ignored_args.empty() ? "" : "; parameters ignored: " + ignored_args));
    }
}

}  // namespace tern::server
