// RecipientPolicy: decides the RCPT reply for a recipient (local user, alias, relay or not)
// and expands accepted recipients into the spool's delivery addresses.
#pragma once

#include <string>
#include <vector>

#include "delivery/local_directory.h"
#include "smtp/envelope.h"
#include "smtp/replies.h"
#include "spool/message.h"

namespace tern::server {

// What the policy knows about the client when it decides.
struct ClientFacts {
    std::string ip;
    bool relay_allowed = false;  // trusted network or authenticated
};

class RecipientPolicy {
  public:
    explicit RecipientPolicy(const delivery::LocalDirectory& directory) : directory_(directory) {}

    // 250 2.1.5 for a deliverable recipient; 550 5.1.1 unknown user, 550 5.4.6 alias loop,
    // 554 5.7.1 relay denied.
    smtp::Reply check(const smtp::ForwardPath& path, const ClientFacts& client) const;

    // The delivery addresses for an accepted recipient, appended to `out` (duplicates skipped).
    void expand(const smtp::Recipient& recipient, std::vector<spool::Recipient>& out) const;

    // The domain used for a bare "<postmaster>" recipient.
    std::string default_domain() const;

  private:
    const delivery::LocalDirectory& directory_;
};

}  // namespace tern::server
