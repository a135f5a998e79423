// SealStage: the pipeline stage that adds Tern's ARC set (RFC 8617 section 5.1) to mail it
// forwards for others: a message from an untrusted host with a recipient that a local alias
// sends on to a remote address, sealed in the alias domain's name with the chain status and the
// results that the verification stage before it recorded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mailauth/dkim_signer.h"
#include "mailauth/stages/signing_keys.h"
#include "pipeline/stage.h"

namespace tern::mailauth {

struct SealOptions {
    std::string authserv_id;  // ours, in ARC-Authentication-Results
    // Whether mail for `domain` is delivered here (lower-case).
    std::function<bool(std::string_view domain)> is_local_domain;
};

class SealStage : public pipeline::Stage {
  public:
    SealStage(SigningKeys keys, SealOptions options)
        : keys_(std::move(keys)), options_(std::move(options)) {}

    std::string_view name() const override { return "arc-seal"; }
    unsigned hooks() const override { return pipeline::kOnMessage; }
    std::unique_ptr<pipeline::MessageFilter> start_message(const pipeline::SessionInfo& session,
                                                           const spool::Message& envelope) override;

    const SealOptions& options() const { return options_; }

    // The key that seals mail forwarded by an alias of `domain`: its RSA signing key (RFC 8617
    // section 4.1.3 defines rsa-sha256 only), from the domain or its nearest parent with keys.
    std::optional<SigningKey> key_for(std::string_view domain) const;

  private:
    SigningKeys keys_;
    SealOptions options_;
};

// The domain of the first recipient that a local address forwards to a remote one (its RCPT
// domain, lower-case), or none when nothing is forwarded.
std::optional<std::string> forwarding_domain(
    const spool::Message& envelope,
    const std::function<bool(std::string_view domain)>& is_local_domain);

}  // namespace tern::mailauth
