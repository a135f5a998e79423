// Stage assembly: config keys become PolicyOptions (DNS lists, rate limits), VerifyOptions,
// MilterSettings and SigningKeys (for DKIM signing and ARC sealing); generated keys are logged
// with the DNS record to publish.
#include "cli/daemon_stages.h"

#include <algorithm>
#include <memory>

#include "base/text.h"
#include "config/schema.h"
#include "filter/milter_stage.h"
#include "mailauth/lookups.h"
#include "mailauth/spf.h"
#include "mailauth/stages/seal_stage.h"
#include "mailauth/stages/sign_stage.h"
#include "mailauth/stages/verify_stage.h"
#include "policy/content_stage.h"
#include "policy/local_store.h"
#include "policy/policy_stage.h"
#include "policy/redis_store.h"

namespace tern::cli {
namespace {

mailauth::DmarcAction action_named(const std::string& name) {
    using mailauth::DmarcAction;
    if (name == "reject") return DmarcAction::kReject;
    if (name == "hold") return DmarcAction::kHold;
    if (name == "tag") return DmarcAction::kTag;
    if (name == "defer") return DmarcAction::kDefer;
    return DmarcAction::kAccept;
}

mailauth::VerifyOptions verify_options(const config::Config& c) {
    mailauth::VerifyOptions o;
    o.authserv_id = c.authserv_id;
    o.hostname = c.hostname;
    o.spf = c.verify_spf;
    o.dkim = c.verify_dkim;
    o.dmarc = c.verify_dmarc;
    o.arc = c.verify_arc;
    o.timeout = c.mailauth_timeout;
    o.dkim_options.max_signatures = c.dkim_max_signatures;
    o.local_policy.on_reject = action_named(c.dmarc_on_reject);
    o.local_policy.on_quarantine = action_named(c.dmarc_on_quarantine);
    o.local_policy.on_temperror = action_named(c.dmarc_on_temperror);
    o.local_policy.trusted_arc_sealers = c.trusted_arc_sealers;
    return o;
}

bool runs_on(const std::vector<std::string>& listeners, std::string_view listener) {
    return std::ranges::find(listeners, listener) != listeners.end();
}

// [greylist]'s settings; none when greylisting is off.
std::optional<policy::GreylistOptions> greylist_options(const config::Config& c) {
    if (!c.greylist) return std::nullopt;
    return policy::GreylistOptions{c.greylist_delay, c.greylist_retry_window, c.greylist_max_age,
                                   c.greylist_auto_allowlist};
}

// The checks of [dnsbl], [ratelimit] and [greylist] whose `listeners` name `listener`.
policy::PolicyOptions policy_options(const config::Config& c, std::string_view listener) {
    policy::PolicyOptions o;
    if (runs_on(c.dnsbl_listeners, listener))
        for (const auto& text : c.dnsbl_sites)
            if (auto site = policy::parse_dnsbl_site(text))
                o.dnsbl_sites.push_back(std::move(*site));
    o.dnsbl_threshold = c.dnsbl_threshold;
    o.allowlist_threshold = c.dnsbl_allowlist_threshold;
    o.listed_action = c.dnsbl_action == "defer"   ? policy::ListedAction::kDefer
                      : c.dnsbl_action == "log"   ? policy::ListedAction::kLog
                      : c.dnsbl_action == "score" ? policy::ListedAction::kScore
                                                  : policy::ListedAction::kReject;
    if (runs_on(c.ratelimit_listeners, listener)) {
        o.client_connections = c.rate_client_connections;
        o.client_messages = c.rate_client_messages;
        o.client_recipients = c.rate_client_recipients;
        o.account_messages = c.rate_account_messages;
        o.account_recipients = c.rate_account_recipients;
        o.sender_domain_messages = c.rate_sender_domain_messages;
    }
    if (runs_on(c.greylist_listeners, listener)) o.greylist = greylist_options(c);
    return o;
}

// The store of [policy_store]: local, or Redis with the local one behind it.
Result<std::shared_ptr<policy::PolicyStore>> open_policy_store(
    const config::Config& config, const boost::asio::any_io_executor& executor, log::Logger& log) {
    auto greylist = greylist_options(config);
    policy::LocalStoreOptions local_options{greylist, config.policy_database,
                                            config.policy_flush_interval};
    auto local = policy::LocalPolicyStore::open(std::move(local_options), log);
    if (!local) return std::unexpected(local.error());
    std::shared_ptr<policy::PolicyStore> store = std::move(*local);
    if (config.policy_store == "redis") {
        policy::RedisStoreOptions redis;
        redis.redis.address = config.redis_address;
        redis.redis.password = config.redis_password;
        redis.redis.database = static_cast<std::uint32_t>(config.redis_database);
        redis.redis.timeout = std::chrono::milliseconds(config.redis_timeout_ms);
        redis.redis.reconnect_max = config.redis_reconnect_max;
        redis.key_prefix = config.redis_key_prefix;
        redis.greylist = greylist;
        store = std::make_shared<policy::RedisPolicyStore>(executor, std::move(redis),
                                                           std::move(store), log);
    }
    log.info("policy_store",
             {{"backend", config.policy_store},
              {"address",
               config.policy_store == "redis" ? config.redis_address : config.policy_database}});
    return store;
}

// The policy checks come first: a client refused for its address or its rate costs no SPF or
// DKIM lookups. Without any list or limit configured there is no stage (and no cost).
// Its state goes to one store (open_policy_store), made once and kept across reloads.
Result<void> add_policy_stage(const config::Config& config, dns::Resolver& resolver,
                              DaemonPipelines& pipelines, log::Logger& log) {
    auto lookup = [&resolver](std::string name, dns::RecordType type) {
        return resolver.query(std::move(name), type);
    };
    // By value: the stages outlive a reload's configuration.
    auto spf_pass_domain = [&resolver, hostname = config.hostname,
                            timeout = config.mailauth_timeout](
                               const pipeline::SessionInfo& session,
                               const std::string& sender) -> boost::asio::awaitable<std::string> {
        auto request = mailauth::session_spf_request(session, sender, hostname);
        if (!request) co_return std::string();
        mailauth::SpfCheck check(std::move(*request));
        co_await mailauth::run_lookups(resolver, check, std::chrono::steady_clock::now() + timeout);
        const auto& outcome = check.outcome();
        co_return outcome.result == mailauth::AuthResult::kPass ? outcome.domain : std::string();
    };
    // One stage per listener with the checks its `listeners` keys give it; one store for both.
    auto mx_options = policy_options(config, "mx");
    auto submission_options = policy_options(config, "submission");
    for (auto* o : {&mx_options, &submission_options}) {
        o->greylist_by_spf = config.greylist_key == "spf";
        o->spf_pass_domain = spf_pass_domain;
    }
    bool on_mx = policy::PolicyStage::hooks_for(mx_options) != 0;
    bool on_submission = policy::PolicyStage::hooks_for(submission_options) != 0;
    if (!on_mx && !on_submission) return {};
    // A reload finds the store made before: the counters and lists go on.
    std::shared_ptr<policy::PolicyStore> store = pipelines.store ? *pipelines.store : nullptr;
    if (!store) {
        auto made = open_policy_store(config, pipelines.executor, log);
        if (!made) return std::unexpected(made.error());
        store = std::move(*made);
        if (pipelines.store) *pipelines.store = store;
    }
    if (on_mx)
        pipelines.mx.add(
            std::make_shared<policy::PolicyStage>(std::move(mx_options), lookup, store, log));
    if (on_submission)
        pipelines.submission.add(std::make_shared<policy::PolicyStage>(
            std::move(submission_options), lookup, store, log));
    return {};
}

}  // namespace

Result<policy::ContentOptions> content_options(const config::Config& config) {
    policy::ContentOptions o;
    o.body_size_limit = config.body_checks_size_limit;
    for (auto [path, target, rules] :
         {std::tuple{&config.header_checks, policy::RuleTarget::kHeader, &o.header_rules},
          std::tuple{&config.body_checks, policy::RuleTarget::kBody, &o.body_rules}}) {
        if (path->empty()) continue;
        auto loaded = policy::RuleSet::load(*path, target);
        if (!loaded) return std::unexpected(loaded.error());
        *rules = std::make_shared<const policy::RuleSet>(std::move(*loaded));
    }
    return o;
}

namespace {

// Header and body rules come after the client checks and before verification: a message they
// refuse costs no DKIM key lookups.
Result<void> add_content_stage(const config::Config& config, DaemonPipelines& pipelines,
                               log::Logger& log) {
    auto options = content_options(config);
    if (!options) return std::unexpected(options.error());
    auto stage = std::make_shared<policy::ContentStage>(std::move(*options), log);
    if (stage->hooks() == 0) return {};
    if (runs_on(config.content_listeners, "mx")) pipelines.mx.add(stage);
    if (runs_on(config.content_listeners, "submission")) pipelines.submission.add(stage);
    return {};
}

// One stage per milter of `specs`, in order.
Result<void> add_milters(const config::Config& c, const std::vector<std::string>& specs,
                         pipeline::Pipeline& pipeline, log::Logger& log) {
    for (const auto& text : specs) {
        auto spec = config::parse_milter_spec(text);
        if (!spec) return std::unexpected(spec.error());
        filter::MilterSettings s;
        s.client.address = spec->address;
        s.client.timeouts = {c.milter_connect_timeout, c.milter_command_timeout,
                             c.milter_end_timeout};
        s.client.max_frame = c.milter_max_frame;
        s.accept_on_failure = spec->accept_on_failure.value_or(c.milter_default_action == "accept");
        s.max_body = c.milter_max_body;
        s.client.max_replaced_body = c.milter_max_body;
        s.hostname = c.hostname;
        pipeline.add(std::make_shared<filter::MilterStage>(std::move(s), log));
    }
    return {};
}

}  // namespace

Result<void> add_stages(const config::Config& config, dns::Resolver& resolver,
                        DaemonPipelines pipelines, log::Logger& log) {
    if (auto r = add_policy_stage(config, resolver, pipelines, log); !r) return r;
    if (auto r = add_content_stage(config, pipelines, log); !r) return r;
    if (config.verify_spf || config.verify_dkim || config.verify_dmarc || config.verify_arc) {
        auto options = verify_options(config);
        options.is_local_domain = [local = pipelines.is_local_domain](std::string_view domain) {
            return local(ascii_lower(domain));
        };
        auto verify = std::make_shared<mailauth::VerifyStage>(resolver, std::move(options));
        if (runs_on(config.verify_on, "mx")) pipelines.mx.add(verify);
        if (runs_on(config.verify_on, "submission")) pipelines.submission.add(verify);
    }
    // Milters see the Authentication-Results field; what they add is signed.
    if (auto r = add_milters(config, config.milters_mx, pipelines.mx, log); !r) return r;
    if (auto r = add_milters(config, config.milters_submission, pipelines.submission, log); !r)
        return r;
    // The signing keys serve DKIM signing and ARC sealing (which needs the verification stage's
    // ARC result to say what chain it extends).
    bool seal = config.arc_seal && config.verify_arc && runs_on(config.verify_on, "mx");
    if (!config.dkim_sign && !seal) return {};
    mailauth::SigningKeysSetup setup{
        config.dkim_domains.empty() ? config.local_domains : config.dkim_domains, config.dkim_keys,
        config.dkim_generate_keys, config.dkim_key_dir};
    std::vector<mailauth::GeneratedKey> generated;
    auto keys = mailauth::SigningKeys::load(setup, &generated);
    if (!keys) return std::unexpected(keys.error());
    for (const auto& g : generated)
        log.info("dkim_key_generated",
                 {{"path", g.path}, {"record", g.record_name}, {"value", g.record_value}});
    if (keys->empty()) return {};
    if (pipelines.signing_keys && config.dkim_sign) *pipelines.signing_keys = keys->all();
    if (seal) {
        mailauth::SealOptions options{config.authserv_id,
                                      [local = pipelines.is_local_domain](std::string_view domain) {
                                          return local(ascii_lower(domain));
                                      }};
        // After verification (its results), before signing (which never meets forwarded mail).
        pipelines.mx.add(std::make_shared<mailauth::SealStage>(*keys, std::move(options)));
    }
    if (!config.dkim_sign) return {};
    auto sign =
        std::make_shared<mailauth::SignStage>(std::move(*keys), mailauth::DkimSignOptions{});
    pipelines.mx.add(sign);  // for trusted clients only: the stage checks
    pipelines.submission.add(sign);
    pipelines.local.add(sign);
    return {};
}

std::vector<std::string> stage_files(const config::Config& config) {
    std::vector<std::string> files;
    for (const auto* rules : {&config.header_checks, &config.body_checks})
        if (!rules->empty()) files.push_back(*rules);
    for (const auto& key : config.dkim_keys) {  // "domain selector key-file"
        auto words = split_blanks(key);
        if (words.size() == 3) files.emplace_back(words[2]);
    }
    return files;
}

Result<DaemonStages> build_stages(const config::Config& config, StageParts& parts,
                                  log::Logger& log) {
    pipeline::PipelineLimits limits;
    limits.max_header_section = config.header_section;
    pipeline::ScoreOptions scoring{static_cast<double>(config.score_reject),
                                   static_cast<double>(config.score_hold), config.score_header};
    DaemonStages built{std::make_shared<pipeline::Pipeline>(limits, scoring),
                       std::make_shared<pipeline::Pipeline>(limits, scoring),
                       std::make_shared<pipeline::Pipeline>(limits),
                       {}};
    built.mx->add(parts.access);
    built.submission->add(parts.access);
    if (auto added = add_stages(config, parts.resolver,
                                {*built.mx, *built.submission, *built.local, parts.is_local_domain,
                                 parts.executor, &built.signing_keys, &parts.store},
                                log);
        !added)
        return std::unexpected(added.error());
    return built;
}

}  // namespace tern::cli
