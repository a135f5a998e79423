// RecipientPolicy: local recipients are checked against the directory at RCPT time so unknown
// users are refused in the dialogue (never bounced later); other domains need relay permission;
// an SRS address of ours is relayed to the address it stands for only when its signature holds;
// a VERP address of ours only when its tag holds (docs/feedback.md).
#include "policy/recipient_policy.h"

#include "base/text.h"

namespace tern::policy {
namespace {

bool same_address(const spool::Recipient& a, const std::string& address) {
    return ascii_iequals(a.address, address);
}

}  // namespace

std::string RecipientPolicy::default_domain() const {
    return directory_.default_domain();
}

bool RecipientPolicy::is_srs(const smtp::ForwardPath& path) const {
    return !path.bare_postmaster && srs_ &&
           srs_->is_ours(path.mailbox.unquoted_local(), path.mailbox.domain);
}

bool RecipientPolicy::is_bounce_address(const smtp::ForwardPath& path) const {
    return !path.bare_postmaster && feedback_ && feedback_->is_bounce_domain(path.mailbox.domain);
}

smtp::Reply RecipientPolicy::check(const smtp::ForwardPath& path, const ClientFacts& client,
                                   std::int64_t now) const {
    using smtp::ReplyName;
    if (path.bare_postmaster) return smtp::reply(ReplyName::kRecipientOk);
    const auto& box = path.mailbox;
    if (is_srs(path)) {
        // Only a valid signature opens the way to a remote address: no open relay.
        auto original = srs_->reverse(box.unquoted_local() + "@" + box.domain, now);
        if (!original) {
            std::string why(delivery::srs_error_text(original.error()));
            if (why[0] >= 'a' && why[0] <= 'z') why[0] = static_cast<char>(why[0] - 'a' + 'A');
            return smtp::reply(ReplyName::kUnknownUser, why);
        }
        if (srs_->bounces_only() && !client.null_sender)
            return smtp::reply(ReplyName::kRelayDenied,
                               "SRS addresses accept only bounces (MAIL FROM:<>)");
        return smtp::reply(ReplyName::kRecipientOk);
    }
    if (feedback_ && feedback_->accepts(box.unquoted_local(), box.domain))
        return smtp::reply(ReplyName::kRecipientOk);
    if (is_bounce_address(path)) {
        // RFC 5321 4.5.1: the postmaster of every domain we take mail for, here the local one.
        if (ascii_iequals(box.unquoted_local(), "postmaster"))
            return smtp::reply(ReplyName::kRecipientOk);
        return smtp::reply(ReplyName::kUnknownUser, "No such bounce address");
    }
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
    auto add = [&](std::string address, bool forwarded) {
        for (const auto& r : out)
            if (same_address(r, address)) return;
        spool::Recipient r;
        r.address = std::move(address);
        r.original = rcpt.path.bare_postmaster ? box.local : box.str();
        r.orcpt = rcpt.params.orcpt;
        r.notify = rcpt.params.notify;
        r.forwarded = forwarded;
        out.push_back(std::move(r));
    };
    // Mailboxes and remote addresses of local part `local` at a local domain.
    auto add_local = [&](const std::string& local, const std::string& at_domain) {
        auto resolved = directory_.resolve(local);
        // Not a user or alias of the directory: accepted at RCPT as an account (tern user),
        // whose mailbox is named by the local part.
        if (!resolved) return add(local + "@" + at_domain, false);
        for (const auto& mailbox : resolved->mailboxes)
            add(mailbox + "@" + at_domain, false);
        for (const auto& remote : resolved->remote)
            add(remote, true);
    };
    if (!rcpt.path.bare_postmaster && feedback_ &&
        feedback_->accepts(box.unquoted_local(), box.domain))
        // Read by the feedback transport; unquoted, as its router compares it.
        return add(box.unquoted_local() + "@" + box.domain_lower(), false);
    if (is_bounce_address(rcpt.path) && ascii_iequals(box.unquoted_local(), "postmaster"))
        return add_local("postmaster", default_domain());
    if (is_srs(rcpt.path)) {
        // Checked with its age at RCPT; the day may have turned since, which must not lose it.
        auto original = srs_->reverse(box.unquoted_local() + "@" + box.domain, std::nullopt);
        if (!original) return;
        auto at = original->rfind('@');
        std::string target_domain = ascii_lower(original->substr(at + 1));
        if (directory_.is_local_domain(target_domain))
            return add_local(original->substr(0, at), target_domain);
        return add(*original, true);
    }
    if (rcpt.path.bare_postmaster || directory_.is_local_domain(box.domain))
        return add_local(rcpt.path.bare_postmaster ? "postmaster" : box.unquoted_local(), domain);
    add(box.str(), false);
}

}  // namespace tern::policy
