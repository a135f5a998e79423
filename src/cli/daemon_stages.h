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

namespace tern::cli {

struct DaemonPipelines {
    pipeline::Pipeline& mx;
    pipeline::Pipeline& submission;
    pipeline::Pipeline& local;
    std::function<bool(std::string_view domain)> is_local_domain;  // lower-case domain
    boost::asio::any_io_executor executor;  // where connections shared by all loops live
    std::vector<mailauth::SigningKey>* signing_keys = nullptr;  // out: the DKIM keys in use
};

// Adds the configured stages in their order: policy checks, header and body rules, then
// verification (its Authentication-Results field is then seen by the milters and signed), milters,
// signing last. Fails when a rules file or a signing key cannot be read or made, or the policy
// store cannot be opened.
Result<void> add_stages(const config::Config& config, dns::Resolver& resolver,
                        DaemonPipelines pipelines, log::Logger& log);

// The [content] rules files, read and parsed; the error names the file and line.
Result<policy::ContentOptions> content_options(const config::Config& config);

}  // namespace tern::cli
