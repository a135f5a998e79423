// RecipientPolicy: local recipients are checked against the directory at RCPT time so unknown
// users are refused in the dialogue (never bounced later); other domains need relay permission.
#include "server/recipient_policy.h"

#include "base/text.h"

namespace tern::server {
namespace {

bool same_address(const spool::Recipient& a, const std::string& address) {
    return ascii_iequals(a.address, address);
}

}  // namespace

std::string RecipientPolicy::default_domain() const {
    return directory_.default_domain();
}

smtp::Reply RecipientPolicy::check(const smtp::ForwardPath& path, const ClientFacts& client) const {
    using smtp::ReplyName;
    if (path.bare_postmaster) return smtp::reply(ReplyName::kRecipientOk);
    const auto& box = path.mailbox;
    if (directory_.is_local_domain(box.domain)) {
        auto resolved = directory_.resolve(box.unquoted_local());
        if (resolved) return smtp::reply(ReplyName::kRecipientOk);
        if (resolved.error() == delivery::ResolveError::kAliasLoop)
            return smtp::reply(ReplyName::kAliasLoop);
        return smtp::reply(ReplyName::kUnknownUser, "User unknown in local recipient table");
    }
    if (client.relay_allowed) return smtp::reply(ReplyName::kRecipientOk);
    return smtp::reply(ReplyName::kRelayDenied);
}

void RecipientPolicy::expand(const smtp::Recipient& rcpt,
                             std::vector<spool::Recipient>& out) const {
    const auto& box = rcpt.path.mailbox;
    std::string domain = rcpt.path.bare_postmaster ? default_domain() : box.domain_lower();
    auto add = [&](std::string address) {
        for (const auto& r : out)
            if (same_address(r, address)) return;
        spool::Recipient r;
        r.address = std::move(address);
        r.original = rcpt.path.bare_postmaster ? box.local : box.str();
        r.orcpt = rcpt.params.orcpt;
        r.notify = rcpt.params.notify;
        out.push_back(std::move(r));
    };
    if (rcpt.path.bare_postmaster || directory_.is_local_domain(box.domain)) {
        auto resolved =
            directory_.resolve(rcpt.path.bare_postmaster ? "postmaster" : box.unquoted_local());
        // Not a user or alias of the directory: accepted at RCPT as an account (tern user),
        // whose mailbox is named by the local part.
        if (!resolved) return add(box.unquoted_local() + "@" + domain);
        for (const auto& mailbox : resolved->mailboxes)
            add(mailbox + "@" + domain);
        for (const auto& remote : resolved->remote)
            add(remote);
        return;
    }
    add(box.str());
}

}  // namespace tern::server
