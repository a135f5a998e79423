// ContentStage: the pipeline stage of the header and body rules (docs/policy.md), Postfix's
// header_checks and body_checks: each header field and body line against the operator's rules.
#pragma once

#include <cstdint>
#include <memory>

#include "log/logger.h"
#include "pipeline/stage.h"
#include "policy/content_rules.h"

namespace tern::policy {

struct ContentOptions {
    std::shared_ptr<const RuleSet> header_rules;  // none or empty = no header rules
    std::shared_ptr<const RuleSet> body_rules;    // none or empty = no body rules
    std::uint64_t body_size_limit = 51200;        // body octets judged; the rest is not
    std::size_t line_limit = 2048;                // a longer body line is judged in pieces
};

class ContentStage : public pipeline::Stage {
  public:
    ContentStage(ContentOptions options, log::Logger& log);

    std::string_view name() const override { return "content"; }
    unsigned hooks() const override;

    std::unique_ptr<pipeline::MessageFilter> start_message(const pipeline::SessionInfo& session,
                                                           const spool::Message& envelope) override;

  private:
    ContentOptions options_;
    log::Logger& log_;
};

}  // namespace tern::policy
