// RecipientPolicy: decides the RCPT reply for a recipient (local user, alias, SRS address, a
// report address of the feedback inbox, relay or not) and expands accepted recipients into the
// spool's delivery addresses.
#pragma once

#include <string>
#include <vector>

#include "delivery/local_directory.h"
#include "delivery/srs_rewriter.h"
#include "feedback/inbox.h"
#include "smtp/envelope.h"
#include "smtp/replies.h"
#include "spool/message.h"

namespace tern::policy {

// What the policy knows about the client when it decides.
struct ClientFacts {
    std::string ip;
    bool relay_allowed = false;  // trusted network or authenticated
    bool null_sender = false;    // the transaction's MAIL FROM is <> (a bounce)
};

class RecipientPolicy {
  public:
    // `srs` (may be null: SRS off) turns SRS addresses of ours back into the original sender;
    // `feedback` (may be null: none) names the addresses whose mail is a report to read.
    explicit RecipientPolicy(const delivery::LocalDirectory& directory,
                             const delivery::SrsRewriter* srs = nullptr,
                             const feedback::FeedbackInbox* feedback = nullptr)
        : directory_(directory), srs_(srs), feedback_(feedback) {}

    // 250 2.1.5 for a deliverable recipient; 550 5.1.1 unknown user, 550 5.4.6 alias loop,
    // 554 5.7.1 relay denied. An SRS address of ours (any client may send to it): 250 when it
    // reverses at `now`, 550 5.1.1 with the reason (forged, expired, malformed) otherwise, and
    // 554 5.7.1 for a sender other than <> when [srs] bounces_only is set. A report address
    // (any client may send to it): 250; another address at the bounce domain: 550 5.1.1.
    smtp::Reply check(const smtp::ForwardPath& path, const ClientFacts& client,
                      std::int64_t now) const;

    // Whether `path` is an SRS address of ours (decided by its signature, never by the accounts).
    bool is_srs(const smtp::ForwardPath& path) const;
    // Whether `path` is at the bounce domain (its VERP tag decides, never the accounts).
    bool is_bounce_address(const smtp::ForwardPath& path) const;

    // The delivery addresses for an accepted recipient, appended to `out` (duplicates skipped).
    // Remote addresses from aliases and the addresses SRS recipients stand for are `forwarded`.
    void expand(const smtp::Recipient& recipient, std::vector<spool::Recipient>& out) const;

    // The domain used for a bare "<postmaster>" recipient.
    std::string default_domain() const;

  private:
    const delivery::LocalDirectory& directory_;
    const delivery::SrsRewriter* srs_;
    const feedback::FeedbackInbox* feedback_;
};

}  // namespace tern::policy
