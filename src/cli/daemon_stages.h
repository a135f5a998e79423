// The daemon's pipeline stages from the configuration (docs/pipeline.md): the policy checks
// ([dnsbl], [ratelimit], [greylist]) and the header and body rules ([content]) on MX and
// submission, mail authentication verification on the listeners [mailauth] verify names, the
// milters of [milter] mx and submission, DKIM signing
// ([dkim]) for submission, trusted MX clients and notices.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "config/config.h"
#include "dns/resolver.h"
#include "log/logger.h"
#include "mailauth/dkim_signer.h"
#include "pipeline/pipeline.h"
#include "policy/content_stage.h"
#include "policy/policy_store.h"

namespace tern::cli {

struct DaemonPipelines {
    pipeline::Pipeline& mx;
    pipeline::Pipeline& submission;
    pipeline::Pipeline& local;
    std::function<bool(std::string_view domain)> is_local_domain;  // lower-case domain
    boost::asio::any_io_executor executor;  // where connections shared by all loops live
    std::vector<mailauth::SigningKey>* signing_keys = nullptr;  // out: the DKIM keys in use
    // In and out: the store of the policy checks' state, made when first needed and then kept
    // (a reload's new stages count on with it). Null: one of their own.
    std::shared_ptr<policy::PolicyStore>* store = nullptr;
};

// What every build of the pipelines shares.
struct StageParts {
    dns::Resolver& resolver;
    std::shared_ptr<pipeline::Stage> access;  // first on MX and submission (docs/policy.md)
    std::function<bool(std::string_view domain)> is_local_domain;
    boost::asio::any_io_executor executor;
    std::shared_ptr<policy::PolicyStore> store;  // made by the first build that needs it
};

// The pipelines of one configuration, built whole: at start, and again at each reload.
struct DaemonStages {
    std::shared_ptr<pipeline::Pipeline> mx;
    std::shared_ptr<pipeline::Pipeline> submission;
    std::shared_ptr<pipeline::Pipeline> local;       // notices and the maildrop's pickup
    std::vector<mailauth::SigningKey> signing_keys;  // the DKIM keys in use
};

// The files a build of the stages reads: the rules files and the configured DKIM key files.
std::vector<std::string> stage_files(const config::Config& config);

// The access stage, then add_stages; the error says which file or key failed.
Result<DaemonStages> build_stages(const config::Config& config, StageParts& parts,
                                  log::Logger& log);

// Adds the configured stages in their order: policy checks, header and body rules, then
// verification (its Authentication-Results field is then seen by the milters and signed), milters,
// signing last. Fails when a rules file or a signing key cannot be read or made, or the policy
// store cannot be opened.
Result<void> add_stages(const config::Config& config, dns::Resolver& resolver,
                        DaemonPipelines pipelines, log::Logger& log);

// The [content] rules files, read and parsed; the error names the file and line.
Result<policy::ContentOptions> content_options(const config::Config& config);

}  // namespace tern::cli
