// reload_daemon: each part in turn; a part that fails keeps what it had and says why.
#include "cli/daemon_reload.h"

#include <fstream>
#include <sstream>

#include "cli/component_options.h"
#include "net/sd_notify.h"

namespace tern::cli {
namespace {

// The settings a reload applies. Sessions read the [limits], the offers of [smtp] and [auth],
// the trusted networks and the spool's free-space floor when they start; the directory and
// certificates are loaded again; the SMTP listeners are opened and closed to match; the relay
// routes each recipient's next attempt by the new routes and TLS levels; the queue takes the new
// retry schedule and limits; the pipelines are built anew. Everything else is read once at start.
// Whole sections the rebuilt pipelines apply ([greylist] and [policy_store] stay as started).
constexpr std::string_view kAppliedSections[] = {"dnsbl.",  "ratelimit.", "content.", "mailauth.",
                                                 "milter.", "dkim.",      "score."};

constexpr std::string_view kApplied[] = {
    "relay.routes",
    "relay.smarthost",
    "tls.outbound_level",
    "tls.outbound_policies",
    "smtp.listen",
    "http.listen",
    "http.max_body",
    "http.max_header",
    "http.request_timeout",
    "http.idle_timeout",
    "http.max_connections",
    "submission.listen",
    "submissions.listen",
    "relay.trusted_networks",
    "local.domains",
    "local.users",
    "local.aliases",
    "local.recipient_delimiter",
    "tls.certificates",
    "limits.command_line",
    "limits.text_line",
    "limits.message_size",
    "limits.recipients",
    "limits.recipient_overshoot",
    "limits.transactions_per_connection",
    "limits.bare_lf",
    "limits.nul_octets",
    "limits.errors",
    "limits.auth_line",
    "limits.header_section",  // the rebuilt pipelines' limit
    "limits.connections",
    "limits.connections_per_client",
    "limits.command_timeout",
    "limits.data_timeout",
    "limits.min_data_rate",
    "limits.tls_close_timeout",
    "smtp.starttls",
    "smtp.auth",
    "auth.plaintext_loopback",
    "spool.min_free",
    "relay.max_hops",
    "relay.port",
    "relay.connect_timeout",
    "relay.greeting_timeout",
    "relay.command_timeout",
    "relay.data_init_timeout",
    "relay.data_block_timeout",
    "relay.data_end_timeout",
    "relay.messages_per_connection",
    "relay.recipients_per_transaction",
    "relay.idle_timeout",
    "tls.dane",
    "queue.retry_schedule",
    "queue.max_lifetime",
    "queue.delay_warning",
    "queue.bounce_size_limit",
    "queue.max_deliveries",
    "queue.local_max_deliveries",
    "relay.destination_concurrency",
    "local.lmtp_concurrency",
};

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

bool applied_by_reload(std::string_view setting) {
    for (auto s : kApplied)
        if (s == setting) return true;
    for (auto s : kAppliedSections)
        if (setting.starts_with(s)) return true;
    return false;
}

namespace {

// The file's configuration with the policy store's settings of `started`: the store made at
// start (or at the first reload that needed it) keeps its backend and greylist timings.
config::Config with_store_of(config::Config fresh, const config::Config& started) {
    fresh.greylist = started.greylist;
    fresh.greylist_listeners = started.greylist_listeners;
    fresh.greylist_delay = started.greylist_delay;
    fresh.greylist_retry_window = started.greylist_retry_window;
    fresh.greylist_max_age = started.greylist_max_age;
    fresh.greylist_auto_allowlist = started.greylist_auto_allowlist;
    fresh.greylist_key = started.greylist_key;
    fresh.policy_store = started.policy_store;
    fresh.policy_database = started.policy_database;
    fresh.policy_flush_interval = started.policy_flush_interval;
    fresh.redis_address = started.redis_address;
    fresh.redis_password = started.redis_password;
    fresh.redis_database = started.redis_database;
    fresh.redis_key_prefix = started.redis_key_prefix;
    fresh.redis_timeout_ms = started.redis_timeout_ms;
    fresh.redis_reconnect_max = started.redis_reconnect_max;
    return fresh;
}

}  // namespace

nlohmann::json reload_daemon(ReloadTargets& t) {
    net::notify_systemd("RELOADING=1");
    nlohmann::json reply{{"ok", true}};
    std::string errors;  // "what: why", separated by "; "
    auto failed = [&](const std::string& what) { errors += (errors.empty() ? "" : "; ") + what; };
    if (auto reopened = t.log.reopen(); !reopened) {
        t.log.error("log_reopen", {{"error", reopened.error().message}});
        failed("log file: " + reopened.error().message);
    }
    std::optional<std::string> text = t.config_path.empty()
                                          ? std::optional<std::string>(t.started_text)
                                          : read_text(t.config_path);
    auto fresh = !text
                     ? Result<config::Config>(fail(ErrorCode::kIo, "cannot read " + t.config_path))
                 : t.config_path.empty() ? Result<config::Config>(t.started)
                                         : config::load_string(*text, t.config_path);
    std::vector<std::string> changed;
    if (fresh) {
        auto diff = config::changed_settings(t.started_text, *text);
        if (diff) changed = std::move(*diff);
    }
    auto is_changed = [&](std::string_view key) {
        return std::find(changed.begin(), changed.end(), key) != changed.end();
    };

    // Certificates: the files again, or the file's new list.
    Result<void> certificates;
    if (fresh && is_changed("tls.certificates") && !fresh->tls_certificates.empty()) {
        std::vector<tls::CertificateFiles> list;
        if (auto acme = t.acme_certificate ? t.acme_certificate() : std::nullopt)
            list.push_back({*acme, ""});
        auto configured = server_tls_options(*fresh).certificates;
        list.insert(list.end(), configured.begin(), configured.end());
        certificates = t.tls.replace(std::move(list));
    } else {
        certificates = t.tls.reload();
    }
    if (certificates) {
        auto loaded = t.tls.certificates().size();
        t.log.info("tls_reload", {{"certificates", loaded}});
        reply["certificates"] = loaded;
    } else {
        t.log.error("tls_reload", {{"error", certificates.error().message}});
        failed("certificates: " + certificates.error().message + " (the ones in use are kept)");
    }

    // The local directory; the LMTP routes are checked (serve would refuse them at the next
    // start) but used from the next start only.
    auto lmtp_check = fresh
                          ? lmtp_transport_options(*fresh)
                          : Result<delivery::LmtpTransportOptions>(std::unexpected(fresh.error()));
    auto loaded = lmtp_check ? t.directory.reload(local_directory_options(*fresh))
                             : Result<void>(std::unexpected(lmtp_check.error()));
    if (loaded) {
        auto n = t.directory.counts();
        t.log.info("directory_reload",
                   {{"domains", n.domains}, {"users", n.users}, {"aliases", n.aliases}});
        reply["directory"] = {{"domains", n.domains}, {"users", n.users}, {"aliases", n.aliases}};
    } else {
        t.log.error("directory_reload", {{"error", loaded.error().message}});
        failed("local directory: " + loaded.error().message +
               " (the domains, users and aliases in use are kept)");
    }

    // New sessions' settings, only from a file that loaded whole.
    auto trusted = fresh ? net::NetworkList::parse(fresh->trusted_networks)
                         : Result<net::NetworkList>(std::unexpected(fresh.error()));
    if (fresh && !trusted) failed("relay.trusted_networks: " + trusted.error().message);
    auto relay = fresh ? relay_transport_options(*fresh)
                       : Result<delivery::SmtpTransportOptions>(std::unexpected(fresh.error()));
    if (fresh && !relay) failed(relay.error().message + " (the routes in use are kept)");
    // [acme] needs an HTTP listener for its challenges: a file that takes it away is refused.
    auto acme = fresh ? check_acme_options(*fresh) : Result<void>(std::unexpected(fresh.error()));
    if (fresh && !acme) failed(acme.error().message);
    bool whole = fresh && loaded && trusted && relay && acme;

    // The pipelines, built anew from the file: its rules files and keys read again. A build
    // that fails keeps the stages in use, as a certificate that fails keeps the ones in use,
    // and the rest of the file still applies (a key only root can read fails every reload).
    Result<DaemonStages> stages = fail(ErrorCode::kInvalid, "not built");
    if (whole) {
        stages = build_stages(with_store_of(*fresh, t.started), t.stage_parts, t.log);
        if (!stages) {
            t.log.error("stages_reload", {{"error", stages.error().message}});
            failed("pipeline: " + stages.error().message + " (the stages in use are kept)");
        }
    }

    // The SMTP listeners: new addresses bound, dropped ones closed; open sessions go on.
    if (whole) {
        std::vector<std::pair<std::string, server::ListenerKind>> wanted;
        for (const auto& a : fresh->smtp_listen)
            wanted.emplace_back(a, server::ListenerKind::kMx);
        for (const auto& a : fresh->submission_listen)
            wanted.emplace_back(a, server::ListenerKind::kSubmission);
        for (const auto& a : fresh->submissions_listen)
            wanted.emplace_back(a, server::ListenerKind::kSubmissions);
        auto change = t.listeners.replace(wanted);
        if (change) {
            // Routes, outbound TLS levels, and the MX addresses the relay counts as its own.
            t.relay.set_routing(std::move(relay->routing));
            t.relay.set_peer_settings(relay->peer);  // port, time-outs, limits
            // The HTTP listeners, once the SMTP ones moved; a failure here keeps the HTTP ones.
            auto http = t.http.replace_listeners(fresh->http_listen);
            if (http) {
                for (const auto& l : http->opened)
                    change->opened.push_back("http " + l);
                for (const auto& l : http->closed)
                    change->closed.push_back("http " + l);
            } else {
                t.log.error("listeners_reload", {{"error", http.error().message}});
                failed("HTTP listeners: " + http.error().message +
                       " (the HTTP listeners in use are kept)");
            }
            for (const auto& l : change->opened)
                t.log.info("listener_open", {{"listener", l}});
            for (const auto& l : change->closed)
                t.log.info("listener_close", {{"listener", l}});
            reply["listeners"] = {{"opened", change->opened}, {"closed", change->closed}};
        } else {
            t.log.error("listeners_reload", {{"error", change.error().message}});
            failed("listeners: " + change.error().message + " (the listeners in use are kept)");
            whole = false;
        }
    }

    if (whole) {
        auto in_use = t.server.settings.load();
        auto mx = in_use->mx_pipeline;
        auto submission = in_use->submission_pipeline;
        if (stages) {
            mx = stages->mx;
            submission = stages->submission;
            t.pipelines_made.push_back(mx);
            t.pipelines_made.push_back(submission);
            std::erase_if(t.pipelines_made, [](const auto& w) { return w.expired(); });
            t.local_stages.store(stages->local);
        }
        t.server.settings.store(std::make_shared<const server::SessionSettings>(
            *fresh, std::move(*trusted), std::move(mx), std::move(submission)));
        t.connections.set_limits(fresh->max_connections, fresh->max_connections_per_client);
        t.http.set_limits(*fresh);
        // The queue looks at every message again when it takes a new policy: only when it
        // differs from the one in use (a daily log rotation's SIGHUP costs nothing there).
        const config::Config& before = *in_use;
        bool queue_changed = fresh->retry_schedule != before.retry_schedule ||
                             fresh->max_lifetime != before.max_lifetime ||
                             fresh->delay_warning != before.delay_warning ||
                             fresh->bounce_size_limit != before.bounce_size_limit ||
                             fresh->max_deliveries != before.max_deliveries ||
                             fresh->local_max_deliveries != before.local_max_deliveries ||
                             fresh->destination_concurrency != before.destination_concurrency ||
                             fresh->lmtp_concurrency != before.lmtp_concurrency;
        if (queue_changed) {
            t.concurrency.relay = fresh->destination_concurrency;
            t.concurrency.local = fresh->local_max_deliveries;
            t.concurrency.lmtp = fresh->lmtp_concurrency;
            t.queue.set_policy(queue::RetryPolicy{fresh->retry_schedule, fresh->max_lifetime,
                                                  fresh->delay_warning},
                               fresh->bounce_size_limit, fresh->max_deliveries);
        }
        t.log.info("settings_reload", {{"changed", static_cast<std::uint64_t>(changed.size())}});
        nlohmann::json pending = nlohmann::json::array();
        for (const auto& key : changed) {
            if (applied_by_reload(key)) continue;
            if (key == "tls.certificates" && !fresh->tls_certificates.empty()) continue;
            t.log.warn("reload_pending", {{"setting", key}, {"effect", "at the next start"}});
            pending.push_back(key);
        }
        if (!pending.empty()) reply["pending"] = pending;
    }
    net::notify_systemd("READY=1");
    if (!errors.empty()) {
        nlohmann::json failure{{"ok", false}, {"error", errors}};
        if (reply.contains("listeners")) failure["listeners"] = reply["listeners"];  // done
        reply = std::move(failure);
    }
    return reply;
}

}  // namespace tern::cli
