// VerifyStage: the pipeline stage that judges who sent a message (docs/mail-authentication.md):
// SPF of the envelope, DKIM signatures hashed as the text streams in, DMARC of the From domain,
// one Authentication-Results field (RFC 8601) in place of any that claims our authserv-id, and
// the local DMARC policy's verdict for mail from untrusted clients.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "dns/resolver.h"
#include "mailauth/dkim_verifier.h"
#include "mailauth/dmarc_disposition.h"
#include "mailauth/dmarc_evaluator.h"
#include "mailauth/spf.h"
#include "pipeline/stage.h"

namespace tern::mailauth {

struct VerifyOptions {
    std::string authserv_id;  // ours, in Authentication-Results
    std::string hostname;     // the receiving host: SPF's %{r}
    bool spf = true;
    bool dkim = true;
    bool dmarc = true;
    bool arc = true;
    std::chrono::seconds timeout{20};  // DNS time of one message's checks together
    SpfOptions spf_options;
    DkimVerifyOptions dkim_options;
    DmarcOptions dmarc_options;
    DmarcLocalPolicy local_policy;
    // Whether mail for `domain` is delivered here. Mail from trusted clients (authenticated, or
    // in relay.trusted_networks) is verified only when it has a local recipient, and never
    // refused: its results are recorded for the reader, not enforced.
    std::function<bool(std::string_view domain)> is_local_domain;
};

// The SPF question of a session (RFC 7208 check_host()): the client's address, its HELO name,
// `sender` (MAIL FROM without <>; "" checks the HELO name), this host's name `receiver`, now.
// None when the client's address is not an IP address.
std::optional<SpfRequest> session_spf_request(const pipeline::SessionInfo& session,
                                              std::string sender, std::string receiver);

class VerifyStage : public pipeline::Stage {
  public:
    VerifyStage(dns::Resolver& resolver, VerifyOptions options)
        : resolver_(resolver), options_(std::move(options)) {}

    std::string_view name() const override { return "mailauth"; }
    unsigned hooks() const override { return pipeline::kOnMessage; }
    std::unique_ptr<pipeline::MessageFilter> start_message(const pipeline::SessionInfo& session,
                                                           const spool::Message& envelope) override;

    dns::Resolver& resolver() { return resolver_; }
    const VerifyOptions& options() const { return options_; }

  private:
    dns::Resolver& resolver_;
    VerifyOptions options_;
};

}  // namespace tern::mailauth
