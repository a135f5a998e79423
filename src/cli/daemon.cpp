// serve(): start-up order (config -> logs -> directory -> spool recovery -> queue -> listeners),
// signal handling, and the shutdown sequence with its grace period.
#include "cli/daemon.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "admin/control_server.h"
#include "auth/crypto.h"
#include "auth/sender_map.h"
#include "auth/throttle.h"
#include "auth/verifier.h"
#include "base/durable_dirs.h"
#include "base/text.h"
#include "bounce/classifier.h"
#include "cli/component_options.h"
#include "cli/daemon_http.h"
#include "cli/daemon_reload.h"
#include "cli/daemon_stages.h"
#include "cli/daemon_tls.h"
#include "cli/daemon_webhooks.h"
#include "cli/privileges.h"
#include "delivery/lmtp_transport.h"
#include "delivery/local_directory.h"
#include "delivery/local_transport.h"
#include "delivery/maildir.h"
#include "delivery/smtp_transport.h"
#include "dns/mx_resolver.h"
#include "dns/resolver.h"
#include "events/event_log.h"
#include "feedback/feedback_transport.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "net/connection_limits.h"
#include "net/endpoint.h"
#include "net/event_loops.h"
#include "net/network_list.h"
#include "net/sd_notify.h"
#include "pipeline/pipeline.h"
#include "policy/access_stage.h"
#include "policy/recipient_policy.h"
#include "queue/queue_manager.h"
#include "server/pickup.h"
#include "server/server_metrics.h"
#include "server/smtp_server.h"
#include "smtp/address.h"
#include "spool/injector.h"
#include "spool/spool.h"
#include "suppress/suppression_feed.h"
#include "tls/client_context.h"
#include "tls/mta_sts_cache.h"
#include "tls/server_context.h"

namespace tern::cli {
namespace asio = boost::asio;

namespace {

// Each open connection needs a descriptor; raise the soft limit as far as allowed.
void raise_file_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// The spool's sync rounds in /metrics: how long each took and how many requests it served.
void count_spool_rounds(metrics::Registry& registry, spool::GroupSync& sync) {
    auto& seconds = registry
                        .histogram("tern_spool_sync_seconds",
                                   "Duration of the spool's group sync rounds (fdatasync, fsync "
                                   "or syncfs for every request of the round).",
                                   {}, metrics::fast_latency_buckets())
                        .histogram({});
    auto& size = registry
                     .histogram("tern_spool_sync_group_size",
                                "Requests (new messages, state changes, deliveries) made "
                                "durable by one sync round.",
                                {}, {1, 2, 4, 8, 16, 32, 64, 128, 256})
                     .histogram({});
    sync.observe_rounds([&seconds, &size](std::size_t requests, std::chrono::nanoseconds took) {
        seconds.observe(std::chrono::duration<double>(took).count());
        size.observe(static_cast<double>(requests));
    });
}

}  // namespace

int serve(const config::Config& config, const std::string& config_path) {
    auto run_as = user_to_become(config);
    if (!run_as) {
        std::cerr << "tern: " << run_as.error().message << "\n";
        return 1;
    }
    raise_file_limit();
    std::signal(SIGPIPE, SIG_IGN);
    // The file as it was read, so that a reload can tell which settings changed since.
    std::string config_text;
    if (!config_path.empty()) {
        std::ifstream in(config_path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        config_text = text.str();
    }
    // Made durably: a data directory that a power cut takes away takes acknowledged mail too.
    if (auto made = make_durable_dirs(config.data_dir); !made) {
        std::cerr << "tern: cannot create data directory " << config.data_dir << ": "
                  << made.error().message << "\n";
        return 1;
    }
    log::Logger log(config.log_format, config.log_level, config.log_file);
    // What GET /metrics shows (docs/metrics.md); every component counts into this one registry.
    // Made before the spool and the event loops: their threads count into it until they end.
    metrics::Registry registry;

    auto directory = delivery::LocalDirectory::load(local_directory_options(config));
    if (!directory) {
        std::cerr << "tern: " << directory.error().message << "\n";
        return 1;
    }

    auto spool = spool::Spool::open(config.data_dir + "/spool", config.group_commit_max,
                                    config.recycle_files);
    if (!spool) {
        std::cerr << "tern: " << spool.error().message << "\n";
        return 1;
    }
    std::vector<spool::Message> recovered;
    auto report = (*spool)->recover(recovered);
    if (!report) {
        std::cerr << "tern: spool recovery failed: " << report.error().message << "\n";
        return 1;
    }
    for (const auto& q : report->quarantined)
        log.warn("quarantined", {{"file", config.data_dir + "/spool/quarantine/" + q.name},
                                 {"size", q.size},
                                 {"reason", q.reason}});
    log.info("recovery", {{"resumed", report->resumed},
                          {"removed", report->removed},
                          {"finished", report->finished},
                          {"repaired", report->repaired},
                          {"quarantined", report->quarantined.size()}});

    auto relay_clients = net::NetworkList::parse(config.trusted_networks);
    if (!relay_clients) {
        std::cerr << "tern: relay.trusted_networks: " << relay_clients.error().message << "\n";
        return 1;
    }
    auto relay_options = relay_transport_options(config);
    if (!relay_options) {
        std::cerr << "tern: " << relay_options.error().message << "\n";
        return 1;
    }

    net::EventLoops loops(config.workers);
    count_spool_rounds(registry, (*spool)->group_sync());
    auto dns_options = resolver_options(config);
    dns_options.metrics = &registry;
    auto resolver = dns::Resolver::create(loops.loop(0), std::move(dns_options));
    if (!resolver) {
        std::cerr << "tern: " << resolver.error().message << "\n";
        return 1;
    }
    dns::MxResolver mx(**resolver);
    auto tls_client = tls::ClientContext::create(client_tls_options(config));
    if (!tls_client) {
        std::cerr << "tern: outbound TLS: " << tls_client.error().message << "\n";
        return 1;
    }
    tls::MtaStsCache mta_sts(
        mx, **tls_client,
        tls::MtaStsOptions{config.data_dir + "/mta-sts", 443, std::chrono::seconds(20)}, log);
    relay_options->tls = tls_client->get();
    relay_options->mta_sts = config.tls_mta_sts ? &mta_sts : nullptr;
    delivery::MaildirIo maildir_io((*spool)->group_sync());
    delivery::Maildir maildir(config.data_dir + "/mail", config.hostname, maildir_io);
    delivery::LocalTransport local(**spool, maildir, &loops.loop(0));  // the queue's loop
    // SRS (docs/srs.md): the return path of forwarded mail, and SRS addresses at RCPT.
    delivery::SrsRewriter srs(
        srs_rewriter_options(config),
        [&directory](std::string_view d) { return directory->is_local_domain(d); },
        directory->default_domain());
    relay_options->srs = &srs;
    // VERP return paths and the reports that come back to them (docs/feedback.md).
    feedback::VerpCodec verp({config.feedback_bounce_domain, config.feedback_secrets, "b"});
    feedback::FeedbackInbox feedback_inbox(verp, config.feedback_addresses);
    relay_options->verp = config.feedback_verp == "none" ? nullptr : &verp;
    relay_options->verp_all = config.feedback_verp == "all";
    std::unique_ptr<feedback::FeedbackTransport> feedback_transport;  // made with the sinks
    // One-click unsubscribe links of the sending API (docs/feedback.md).
    std::optional<feedback::UnsubscribeTokens> unsubscribe_tokens;
    if (!config.feedback_unsubscribe_url.empty())
        unsubscribe_tokens.emplace(config.feedback_secrets);
    std::unique_ptr<feedback::SentIndex> sent_index;  // who sent what, for the reports' events
    if (relay_options->verp && verp.enabled())
        sent_index = std::make_unique<feedback::SentIndex>(config.data_dir + "/sent.sqlite");
    relay_options->metrics = &registry;
    delivery::SmtpTransport relay(**spool, mx, std::move(*relay_options), log);
    auto lmtp_options = lmtp_transport_options(config);
    if (!lmtp_options) {
        std::cerr << "tern: " << lmtp_options.error().message << "\n";
        return 1;
    }
    delivery::LmtpTransport lmtp(**spool, std::move(*lmtp_options), log);
    DestinationConcurrency concurrency{config.destination_concurrency, config.local_max_deliveries,
                                       config.lmtp_concurrency};
    auto router = [&](const spool::Recipient& r) {
        if (feedback_inbox.enabled() && feedback_inbox.accepts(r.address))
            return queue::Route{"feedback", feedback_transport.get(), 4};
        std::string domain = smtp::domain_of(r.address);
        if (directory->is_local_domain(domain)) {
            if (auto to = lmtp.destination_of(domain))
                return queue::Route{*to, &lmtp, concurrency.lmtp.load()};
            return queue::Route{"local", &local, concurrency.local.load()};
        }
        return queue::Route{relay.destination_of(domain), &relay, concurrency.relay.load()};
    };
    queue::QueueOptions qopts;
    qopts.hostname = config.hostname;
    qopts.retry =
        queue::RetryPolicy{config.retry_schedule, config.max_lifetime, config.delay_warning};
    qopts.bounce_size_limit = config.bounce_size_limit;
    qopts.max_deliveries = config.max_deliveries;
    qopts.state_retry = config.spool_sync_retry;
    queue::QueueMetrics queue_metrics(registry);
    qopts.metrics = &queue_metrics;
    // Every acceptance and outcome, for GET /api/v1/events (docs/events.md).
    std::unique_ptr<events::EventLog> event_log;
    if (config.events_enabled) {
        auto opened = events::EventLog::open(
            {config.data_dir + "/events", config.events_segment_size, config.events_max_size,
             std::chrono::duration_cast<std::chrono::milliseconds>(config.events_flush_interval),
             1'000'000});
        if (!opened) {
            std::cerr << "tern: events: " << opened.error().message << "\n";
            return 1;
        }
        event_log = std::move(*opened);
    }
    // What each failure means (docs/bounces.md), in its event and log line.
    auto classifier = bounce::BounceClassifier::load(config.bounce_rules_file);
    if (!classifier) {
        std::cerr << "tern: bounce.rules_file: " << classifier.error().message << "\n";
        return 1;
    }
    qopts.classifier = classifier->get();
    // The suppression list (docs/suppression.md): hard bounces go on it, the API refuses it.
    std::unique_ptr<suppress::SuppressionList> suppressions;
    std::unique_ptr<suppress::SuppressionFeed> suppression_feed;
    std::vector<events::EventSink*> sinks;
    if (event_log) sinks.push_back(event_log.get());
    if (config.suppression_enabled) {
        suppressions = std::make_unique<suppress::SuppressionList>(config.suppression_database);
        suppression_feed = std::make_unique<suppress::SuppressionFeed>(
            *suppressions,
            std::set<std::string>(config.suppression_on_bounce.begin(),
                                  config.suppression_on_bounce.end()),
            config.suppression_on_complaint, log);
        sinks.push_back(suppression_feed.get());
    }
    events::EventFanout event_sinks(sinks);
    // The events POSTed to [webhooks] endpoints (docs/webhooks.md), from the log's durable end.
    auto webhooks = DaemonWebhooks::create(config, loops.loop(0), event_log.get(), log);
    if (!webhooks) {
        std::cerr << "tern: " << webhooks.error().message << "\n";
        return 1;
    }
    if (!sinks.empty()) qopts.events = &event_sinks;
    feedback_transport = std::make_unique<feedback::FeedbackTransport>(
        **spool, feedback_inbox, sinks.empty() ? nullptr : &event_sinks, classifier->get(),
        sent_index.get(), log, feedback::FeedbackTransportOptions{config.feedback_max_read, {}});
    // Accounts: passwords are checked on the verifier's threads, never on an event loop.
    auth::Verifier verifier(auth::StorePoolOptions{
        config.auth_database,
        auth::HashOptions{
            {config.argon2_memory_kib, config.argon2_iterations, config.argon2_parallelism},
            config.scram_iterations},
        config.auth_threads, config.auth_queue});
    auto tag_key = auth::random_bytes(32);
    if (!tag_key) {
        std::cerr << "tern: " << tag_key.error().message << "\n";
        return 1;
    }
    auth::LoginThrottle throttle(auth::LoginThrottleOptions{
        .base_delay =
            std::chrono::duration_cast<std::chrono::milliseconds>(config.throttle_base_delay),
        .max_delay =
            std::chrono::duration_cast<std::chrono::milliseconds>(config.throttle_max_delay),
        .reset_after = config.throttle_reset_after,
        .max_entries = config.throttle_max_entries,
        .free_per_login = config.throttle_free_per_login,
        .free_per_address = config.throttle_free_per_address,
        .free_per_account = config.throttle_free_per_account,
        .tag_key = std::move(*tag_key)});
    auto senders = load_sender_map(config);
    if (!senders) {
        std::cerr << "tern: " << senders.error().message << "\n";
        return 1;
    }
    // Who may send what to whom (docs/policy.md): the first stage of MX and submission.
    policy::RecipientPolicy recipients(*directory, &srs, &feedback_inbox);
    policy::AccessOptions access_options{
        .recipients = &recipients,
        .senders = &*senders,
        .recipient_delimiter = config.recipient_delimiter,
        .account_exists = [&verifier](std::string address) -> asio::awaitable<Result<bool>> {
            co_return co_await verifier.async_account_exists(std::move(address),
                                                             asio::use_awaitable);
        },
        .now = {}};
    auto access = std::make_shared<policy::AccessStage>(std::move(access_options));
    // The stages of each source of mail (docs/pipeline.md); a reload builds them anew.
    StageParts stage_parts{**resolver, access,
                           [&](std::string_view d) { return directory->is_local_domain(d); },
                           loops.loop(0).get_executor(), nullptr};
    auto stages = build_stages(config, stage_parts, log);
    if (!stages) {
        std::cerr << "tern: " << stages.error().message << "\n";
        return 1;
    }
    pipeline::PipelineSlot local_stages(stages->local);
    qopts.notice_stages = &local_stages;
    // Every pipeline made, so that shutdown can stop the waits of those sessions still hold.
    std::vector<std::weak_ptr<const pipeline::Pipeline>> pipelines_made{stages->mx,
                                                                        stages->submission};
    queue::QueueManager queue(loops.loop(0), loops, **spool, log, qopts, router);

    // Server TLS: the configured certificates, the ACME one, or one made for the embedded
    // default (docs/tls.md).
    auto certificates = make_daemon_tls(config, loops.loop(0), mx, log);
    if (!certificates) {
        std::cerr << "tern: " << certificates.error().message << "\n";
        return 1;
    }
    tls::ServerContext* server_tls = (*certificates)->server.get();

    auth::MechanismOptions mechanisms;
    auto unknown_key = auth::random_bytes(32);
    if (!unknown_key) {
        std::cerr << "tern: " << unknown_key.error().message << "\n";
        return 1;
    }
    mechanisms.unknown_user_key = std::move(*unknown_key);
    mechanisms.unknown_user_iterations = config.scram_iterations;

    net::ConnectionLimits limits(config.max_connections, config.max_connections_per_client);
    // The one commit sequence of inbound mail; what it commits goes to the queue.
    spool::Injector injector(**spool, [&queue](spool::Message m) { queue.submit(std::move(m)); });
    auto pregreet_skip = net::NetworkList::parse(config.pregreet_skip_networks);
    policy::Pregreet pregreet(
        {std::chrono::duration_cast<std::chrono::milliseconds>(config.pregreet_wait),
         config.pregreet_action == "drop", pregreet_skip.value_or(net::NetworkList{}),
         config.pregreet_pass_ttl});
    server::ServerMetrics server_metrics(registry);
    server::ServerContext context{
        .settings = std::make_shared<const server::SessionSettings>(
            config, std::move(*relay_clients), stages->mx, stages->submission),
        .log = log,
        .spool = **spool,
        .injector = injector,
        .queue = queue,
        .policy = recipients,
        .access = *access,
        .limits = limits,
        .tls = server_tls,
        .verifier = &verifier,
        .throttle = &throttle,
        .mechanism_options = mechanisms,
        .pregreet = pregreet.options().wait.count() ? &pregreet : nullptr,
        .metrics = &server_metrics,
        .sessions = {},
        .accepting = {true}};
    // Mail programs hand over with `tern sendmail` (docs/sendmail.md): the maildrop's pickup.
    server::Pickup pickup(
        loops.loop(0),
        {config.data_dir + "/maildrop", config.data_dir + "/maildrop-bad", config.hostname,
         config.limits.max_message_size, std::chrono::seconds(60)},
        injector, recipients, &local_stages, log);
    server::SmtpServer smtp(context, loops);
    for (auto [addresses, kind] :
         {std::pair{&config.smtp_listen, server::ListenerKind::kMx},
          std::pair{&config.submission_listen, server::ListenerKind::kSubmission},
          std::pair{&config.submissions_listen, server::ListenerKind::kSubmissions}}) {
        if (auto r = smtp.listen(*addresses, kind); !r) {
            std::cerr << "tern: " << r.error().message << "\n";
            return 1;
        }
    }
    admin::ControlServer control(queue, log);
    if (auto r = control.listen(config.data_dir + "/control.sock"); !r) {
        std::cerr << "tern: " << r.error().message << "\n";
        return 1;
    }

    // The HTTP listener: /metrics, /health, the sending API and the dashboard (docs/http.md).
    auto http = DaemonHttp::create(
        config, {registry, queue, loops, log, server_tls, verifier, throttle, **resolver,
                 stages->signing_keys, (*certificates)->challenges.get(), &injector, &recipients,
                 &local_stages, event_log.get(), qopts.events, suppressions.get(), sent_index.get(),
                 unsubscribe_tokens ? &*unsubscribe_tokens : nullptr});
    if (!http) {
        std::cerr << "tern: " << http.error().message << "\n";
        return 1;
    }

    // Every port is bound and every file open: root is not needed any more.
    if (auto r = *run_as ? give_up_root(config, **run_as, log) : Result<void>{}; !r) {
        std::cerr << "tern: " << r.error().message << "\n";
        return 1;
    }
    // The suppression list opened as the daemon's user will use it: a file that is not a
    // suppression list, or a database in a directory that user cannot write (its WAL file is
    // made beside it), stops the start, not every request.
    if (suppressions) {
        if (auto r = suppressions->check(); !r) {
            std::cerr << "tern: suppression.database: " << r.error().message << "\n";
            return 1;
        }
    }
    if (sent_index) {
        if (auto r = sent_index->check(); !r) {
            std::cerr << "tern: feedback: " << r.error().message << "\n";
            return 1;
        }
    }
    // A reload reads these again as the user the daemon runs as now.
    auto warn_unreadable = [&](const std::vector<std::string>& files, std::string_view effect) {
        for (const auto& file : files)
            if (!file.empty() && ::access(file.c_str(), R_OK) != 0)
                log.warn("reload_unreadable", {{"file", file},
                                               {"error", std::strerror(errno)},
                                               {"effect", std::string(effect)}});
    };
    warn_unreadable({config_path, config.aliases_file},
                    "a reload keeps the local domains, users and aliases in use");
    warn_unreadable(stage_files(config), "a reload keeps the stages in use");

    asio::signal_set signals(loops.loop(0), SIGTERM, SIGINT);
    asio::signal_set hangup(loops.loop(0), SIGHUP);
    auto shutdown = [&]() -> asio::awaitable<void> {
        auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        log.info("shutdown", {{"signal", sig}, {"sessions", context.sessions.size()}});
        net::notify_systemd("STOPPING=1");
        smtp.stop_accepting();
        control.stop();
        (*http)->stop();
        pickup.stop();
        (*certificates)->stop();
        (*webhooks)->stop();
        asio::steady_timer timer(loops.loop(0));
        auto wait_for_sessions = [&](std::chrono::milliseconds limit) -> asio::awaitable<void> {
            auto until = std::chrono::steady_clock::now() + limit;
            while (context.sessions.size() > 0 && std::chrono::steady_clock::now() < until) {
                timer.expires_after(std::chrono::milliseconds(20));
                co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            }
        };
        co_await wait_for_sessions(
            std::chrono::duration_cast<std::chrono::milliseconds>(config.shutdown_grace));
        if (context.sessions.size() > 0) {
            log.info("shutdown_sessions", {{"closing", context.sessions.size()}});
            // A session waiting on a stage's outside peer (a milter) must not wait for it.
            for (const auto& made : pipelines_made)
                if (auto p = made.lock()) p->stop();
            context.sessions.stop_all();
            co_await wait_for_sessions(std::chrono::seconds(10));
        }
        queue.stop([&] {
            boost::system::error_code ignored;
            hangup.cancel(ignored);
            relay.close_idle();
            (*resolver)->stop();
            log.info("stopped", {});
            loops.release_work();
        });
    };
    asio::co_spawn(loops.loop(0), shutdown(), asio::detached);

    // SIGHUP and `tern reload` (docs/operations.md): both run on loop 0, one at a time; whatever
    // fails keeps what is in use.
    ReloadTargets reload_targets{log,
                                 config_path,
                                 config,
                                 config_text,
                                 *server_tls,
                                 [&certificates]() -> std::optional<std::string> {
                                     if (!(*certificates)->certificates) return std::nullopt;
                                     auto stored = (*certificates)->certificates->stored();
                                     return stored ? std::optional<std::string>(stored->path)
                                                   : std::nullopt;
                                 },
                                 *directory,
                                 context,
                                 limits,
                                 smtp,
                                 relay,
                                 **http,
                                 stage_parts,
                                 local_stages,
                                 pipelines_made,
                                 queue,
                                 concurrency};
    auto reload = [&]() -> nlohmann::json { return reload_daemon(reload_targets); };
    control.on_reload(reload);
    std::function<void()> wait_hangup = [&] {
        hangup.async_wait([&](boost::system::error_code ec, int) {
            if (ec) return;
            reload();
            wait_hangup();
        });
    };
    wait_hangup();

    // From here the sessions, the slot and the dashboard hold what they use of the first
    // build: a reload's pipelines replace it, and it goes with the last session holding it.
    stages->mx.reset();
    stages->submission.reset();
    stages->local.reset();

    // Nothing runs before loops.run(): files already in the maildrop wait for the queue.
    if (auto r = pickup.start(); !r) {
        std::cerr << "tern: maildrop: " << r.error().message << "\n";
        return 1;
    }
    queue.start(std::move(recovered));
    smtp.start();
    control.start();
    (*http)->start();
    (*certificates)->start();
    if (auto r = (*webhooks)->start(); !r) {
        std::cerr << "tern: webhooks: " << r.error().message << "\n";
        return 1;
    }
    auto joined = [](const std::vector<std::string>& list) {
        std::string out;
        for (const auto& l : list)
            out += (out.empty() ? "" : ", ") + l;
        return out.empty() ? std::string("(off)") : out;
    };
    std::string listen_list = joined(config.smtp_listen);
    std::string domains;
    std::string by_lmtp;  // "; example.org by LMTP to unix:/run/dovecot/lmtp"
    for (const auto& d : config.local_domains) {
        if (auto to = lmtp.destination_of(d)) {
            by_lmtp += fmt::format("; {} by LMTP to {}", d, to->substr(5));
            continue;
        }
        domains += (domains.empty() ? "" : ", ") + d;
    }
    // JSON log lines on standard error must not be mixed with plain text.
    if (config.log_format != log::Format::kJson || !config.log_file.empty())
        std::cerr << fmt::format(
            "tern: serving SMTP on {} as {}; submission (STARTTLS + AUTH) on {}; submissions "
            "(TLS + AUTH) on {}\n"
            "tern: mail for {} is delivered to {}/mail/<user>/Maildir{} (postmaster always "
            "exists)\n"
            "tern: spool in {}/spool; queue commands via {}/control.sock; accounts: tern user\n"
            "tern: metrics on {} (/metrics, /health{})\n",
            listen_list, config.hostname, joined(config.submission_listen),
            joined(config.submissions_listen), domains.empty() ? "no domain" : domains,
            config.data_dir, by_lmtp, config.data_dir, config.data_dir, joined(config.http_listen),
            config.dashboard_admins.empty() ? "" : ", /dashboard/");
    log.info("started",
             {{"listen", listen_list}, {"hostname", config.hostname}, {"workers", loops.size()}});
    // Type=notify: the listeners are bound, so clients may come (packaging/tern.service).
    net::notify_systemd("READY=1\nSTATUS=serving SMTP on " + listen_list);
    loops.run();
    // The API's last rows of who sent what, before the index's worker stops (it would drop them).
    if (sent_index) sent_index->wait_idle();
    return 0;
}

}  // namespace tern::cli
