// DaemonHttp: the HTTP server's options from [http], its routes, and the listener.
#include "cli/daemon_http.h"

#include "admin/domain_status.h"
#include "cli/component_options.h"

namespace tern::cli {
namespace {

constexpr std::chrono::seconds kDomainsFresh{60};

// [http] as the server takes it; TLS with the server certificates when http.tls is on.
http::ServerOptions http_server_options(const config::Config& config, tls::ServerContext* tls) {
    http::ServerOptions o;
    o.listen = config.http_listen;
    o.tls = config.http_tls ? tls : nullptr;
    o.max_body_size = config.http_max_body;
    o.max_header_size = config.http_max_header;
    o.request_timeout = config.http_request_timeout;
    o.idle_timeout = config.http_idle_timeout;
    o.max_connections = config.http_max_connections;
    return o;
}

}  // namespace

void DaemonHttp::set_limits(const config::Config& config) {
    server_->set_limits(http_server_options(config, nullptr));
}

Result<std::unique_ptr<DaemonHttp>> DaemonHttp::create(const config::Config& config,
                                                       DaemonHttpParts parts) {
    std::unique_ptr<DaemonHttp> http(new DaemonHttp(std::move(parts)));
    DaemonHttpParts& p = http->parts_;
    auto metrics_networks = net::NetworkList::parse(config.metrics_networks);
    if (!metrics_networks)
        return fail(ErrorCode::kInvalid,
                    "http.metrics_networks: " + metrics_networks.error().message);
    http->metrics_ = std::make_unique<admin::MetricsEndpoint>(
        p.registry, p.queue, std::move(*metrics_networks), TERN_VERSION);
    http->server_ =
        std::make_unique<http::HttpServer>(http_server_options(config, p.tls), p.loops, p.log);
    http->metrics_->mount(*http->server_);
    auto options = dashboard_options(config);
    if (!options) return std::unexpected(options.error());
    if (!options->admins.empty()) {
        // The DNS answers are asked for at most once a minute, whoever asks how often.
        DaemonHttp* self = http.get();
        auto domains = [self]() -> boost::asio::awaitable<nlohmann::json> {
            auto now = std::chrono::steady_clock::now();
            {
                std::lock_guard lock(self->domains_mutex_);
                if (!self->domains_.is_null() && now - self->domains_at_ < kDomainsFresh)
                    co_return self->domains_;
            }
            nlohmann::json fresh = co_await admin::domain_status(
                self->parts_.tls, self->parts_.signing_keys, self->parts_.resolver);
            std::lock_guard lock(self->domains_mutex_);
            self->domains_ = fresh;
            self->domains_at_ = now;
            co_return fresh;
        };
        http->dashboard_ = std::make_unique<admin::Dashboard>(
            std::move(*options), p.queue, p.registry, p.verifier, p.throttle, p.log, domains);
        http->dashboard_->mount(*http->server_);
    }
    if (config.api_enabled && p.injector && p.recipients) {
        api::MessageApiOptions api_options;
        api_options.hostname = config.hostname;
        api_options.limits.max_recipients = config.api_max_recipients;
        api_options.limits.max_depth = config.api_max_json_depth;
        api_options.limits.max_message_size = config.limits.max_message_size;
        api_options.max_template_depth = config.api_max_template_depth;
        api_options.idempotency_retention = config.api_idempotency_retention.count();
        api_options.sent_retention = config.feedback_sent_retention.count();
        api_options.unsubscribe_url = config.feedback_unsubscribe_url;
        // Opened by its worker at the first request that carries a key (as the daemon's user).
        http->idempotency_ =
            std::make_unique<api::IdempotencyStore>(config.data_dir + "/idempotency.sqlite");
        http->api_keys_ = std::make_unique<auth::ApiKeyStore>(config.api_keys_file);
        http->api_ = std::make_unique<api::MessageApi>(
            std::move(api_options), *http->api_keys_, *p.injector, *p.recipients,
            api::MessageApiServices{p.local_stages, p.suppressions, p.event_sink,
                                    http->idempotency_.get(), p.sent, p.unsubscribe},
            p.log);
        http->api_->mount(*http->server_);
        if (p.suppressions) {
            http->suppressions_api_ = std::make_unique<api::SuppressionsApi>(
                *p.suppressions, *http->api_keys_, config.api_max_recipients,
                config.api_max_json_depth, p.log);
            http->suppressions_api_->mount(*http->server_);
        }
        if (p.events) {
            http->events_api_ =
                std::make_unique<api::EventsApi>(*p.events, *http->api_keys_, p.log);
            http->events_api_->mount(*http->server_);
        }
    }
    if (p.unsubscribe) {
        // Whether or not the API is on now: links already in people's mailboxes keep working.
        http->unsubscribe_page_ = std::make_unique<api::UnsubscribePage>(
            *p.unsubscribe, p.suppressions, p.event_sink, p.log);
        http->unsubscribe_page_->mount(*http->server_);
    }
    if (p.challenges) {
        // RFC 8555 8.3: the key authorization as the body, to whoever asks (the CA).
        acme::ChallengeResponder* challenges = p.challenges;
        http->server_->route(
            http::Verb::get, "/.well-known/acme-challenge/",
            [challenges](const http::Request& request,
                         const http::Peer&) -> boost::asio::awaitable<http::Response> {
                std::string_view target = request.target();
                target = target.substr(0, target.find('?'));
                target.remove_prefix(std::string_view("/.well-known/acme-challenge/").size());
                auto answer = challenges->find(target);
                if (!answer)
                    co_return http::json_error(http::Status::not_found, "no such challenge");
                co_return http::text_response(http::Status::ok, *answer,
                                              "application/octet-stream");
            });
    }
    if (auto r = http->server_->listen(); !r) return std::unexpected(r.error());
    return http;
}

}  // namespace tern::cli
