// SignStage: the pipeline stage that DKIM-signs what Tern sends for its own domains (RFC 6376,
// RFC 8463): mail from trusted clients (authenticated, or in relay.trusted_networks) and Tern's
// own notices, with every key of the From domain (RSA and Ed25519 by default), after the header
// edits of the stages before it.
#pragma once

#include <memory>

#include "mailauth/dkim_signer.h"
#include "mailauth/stages/signing_keys.h"
#include "pipeline/stage.h"

namespace tern::mailauth {

class SignStage : public pipeline::Stage {
  public:
    SignStage(SigningKeys keys, DkimSignOptions options)
        : keys_(std::move(keys)), options_(std::move(options)) {}

    std::string_view name() const override { return "dkim-sign"; }
    unsigned hooks() const override { return pipeline::kOnMessage; }
    std::unique_ptr<pipeline::MessageFilter> start_message(const pipeline::SessionInfo& session,
                                                           const spool::Message& envelope) override;

    const SigningKeys& keys() const { return keys_; }
    const DkimSignOptions& options() const { return options_; }

  private:
    SigningKeys keys_;
    DkimSignOptions options_;
};

}  // namespace tern::mailauth
