// Dashboard: the page's files, the login, and the JSON API the page polls and acts through.
#include "admin/dashboard.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include "auth/crypto.h"
#include "auth/identity.h"
#include "base/unix_time.h"

namespace tern::admin {

// The page's files, built into the binary (src/admin/dashboard/; generated dashboard_assets.cpp).
std::string_view dashboard_asset(std::string_view name);

namespace {
namespace asio = boost::asio;
using bfield = boost::beast::http::field;
using nlohmann::json;

constexpr std::string_view kCookie = "tern_dashboard";
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

http::Response guarded(http::Response r) {
    r.set(bfield::cache_control, "no-store");
    r.set(bfield::x_frame_options, "DENY");
    r.set("X-Content-Type-Options", "nosniff");
    r.set("Referrer-Policy", "no-referrer");
    return r;
}

http::Response error(http::Status status, std::string_view message, std::string_view field = {}) {
    return guarded(http::json_error(status, message, field));
}

http::Response ok(const json& body) {
    return guarded(http::json_response(http::Status::ok, body.dump() + "\n"));
}

std::string_view path_of(const http::Request& request) {
    std::string_view target = request.target();
    return target.substr(0, target.find('?'));
}

std::string_view header(const http::Request& request, bfield field) {
    auto it = request.find(field);
    return it == request.end() ? std::string_view() : std::string_view(it->value());
}

std::string_view header(const http::Request& request, std::string_view name) {
    auto it = request.find(name);
    return it == request.end() ? std::string_view() : std::string_view(it->value());
}

std::string cookie(std::string_view token, bool tls, bool expire = false) {
    std::string c = std::string(kCookie) + "=" + std::string(token) +
                    "; Path=/dashboard; HttpOnly; SameSite=Strict";
    if (tls) c += "; Secure";
    if (expire) c += "; Max-Age=0";
    return c;
}

// A change from another site: an Origin that is not this listener, or a browser saying so.
bool cross_site(const http::Request& request, bool tls) {
    std::string_view origin = header(request, bfield::origin);
    if (!origin.empty() && !same_origin(origin, header(request, bfield::host), tls)) return true;
    std::string_view site = header(request, "Sec-Fetch-Site");
    return !site.empty() && site != "same-origin" && site != "none";
}

bool is_json(const http::Request& request) {
    std::string_view type = header(request, bfield::content_type);
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ')
        type.remove_suffix(1);
    return type == "application/json";
}

constexpr std::string_view kActions[] = {"hold", "release", "retry", "delete", "bounce"};

// What a queue id may look like (base/queue_id.h makes them shorter and of these characters);
// anything else is refused before it reaches the queue or the log.
bool queue_id_shaped(std::string_view id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of(
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
               "-_.") == std::string_view::npos;
}

}  // namespace

Dashboard::Dashboard(DashboardOptions options, queue::QueueManager& queue,
                     const metrics::Registry& registry, auth::Verifier& verifier,
                     auth::LoginThrottle& throttle, log::Logger& log, DomainsReport domains)
    : options_(std::move(options)),
      queue_(queue),
      registry_(registry),
      verifier_(verifier),
      throttle_(throttle),
      log_(log),
      domains_(std::move(domains)),
      sessions_(options_.session_lifetime, options_.max_sessions) {}

void Dashboard::mount(http::HttpServer& server) {
    auto on_get = [this](const http::Request& request, const http::Peer& peer) {
        return get(request, peer);
    };
    auto on_post = [this](const http::Request& request, const http::Peer& peer) {
        return post(request, peer);
    };
    server.route(http::Verb::get, "/dashboard", on_get);
    server.route(http::Verb::get, "/dashboard/", on_get);
    server.route(http::Verb::post, "/dashboard/", on_post);
}

std::optional<DashboardSession> Dashboard::session_of(const http::Request& request) {
    auto token = cookie_value(header(request, bfield::cookie), kCookie);
    if (!token) return std::nullopt;
    return sessions_.find(*token, SessionStore::Clock::now());
}

asio::awaitable<json> Dashboard::queue_command(json request) {
    json reply = co_await asio::co_spawn(queue_.home(), queue_.command(std::move(request)),
                                         asio::use_awaitable);
    co_return reply;
}

asio::awaitable<json> Dashboard::overview() {
    auto total = [this](std::string_view name, std::string_view label,
                        std::initializer_list<std::string_view> values) -> std::uint64_t {
        const metrics::Family* family = registry_.find(name);
        return family ? family->counter_total(label, values) : 0;
    };
    json totals{
        {"received", total("tern_smtpd_messages_total", "result", {"queued"})},
        {"delivered", total("tern_deliveries_total", "status", {"delivered"})},
        {"deferred", total("tern_deliveries_total", "status", {"deferred"})},
        {"bounced", total("tern_deliveries_total", "status", {"bounced", "expired"})},
    };
    auto summary = co_await asio::co_spawn(queue_.home(), queue_.summary(), asio::use_awaitable);
    json queue{{"messages", summary.messages},
               {"held", summary.held_messages},
               {"deferred", summary.deferred_messages},
               {"active", summary.active_messages},
               {"recipients", summary.recipients_pending + summary.recipients_deferred +
                                  summary.recipients_active},
               {"oldest_arrival", summary.oldest_arrival}};
    json ask{{"cmd", "sites"}};
    json sites = co_await queue_command(std::move(ask));
    co_return json{{"time", unix_now()},
                   {"totals", std::move(totals)},
                   {"queue", std::move(queue)},
                   {"sites", sites.value("sites", json::array())}};
}

asio::awaitable<http::Response> Dashboard::get(const http::Request& request,
                                               const http::Peer& peer) {
    if (!options_.networks.contains(peer.address))
        co_return error(http::Status::forbidden, "the dashboard is not open to this address");
    std::string_view path = path_of(request);
    if (path == "/dashboard") {
        http::Response r = guarded(http::text_response(http::Status::permanent_redirect, ""));
        r.set(bfield::location, "/dashboard/");
        co_return r;
    }
    struct File {
        std::string_view path, asset, type;
    };
    for (const File& f : {File{"/dashboard/", "index.html", "text/html; charset=utf-8"},
                          File{"/dashboard/index.html", "index.html", "text/html; charset=utf-8"},
                          File{"/dashboard/app.js", "app.js", "text/javascript; charset=utf-8"},
                          File{"/dashboard/app.css", "app.css", "text/css; charset=utf-8"}}) {
        if (path != f.path) continue;
        http::Response r = guarded(http::text_response(
            http::Status::ok, std::string(dashboard_asset(f.asset)), std::string(f.type)));
        r.set("Content-Security-Policy", kContentSecurityPolicy);
        co_return r;
    }
    if (!path.starts_with("/dashboard/api/"))
        co_return error(http::Status::not_found, "no such resource");
    auto session = session_of(request);
    if (!session) co_return error(http::Status::unauthorized, "not logged in");
    if (path == "/dashboard/api/session")
        co_return ok(json{{"user", session->user}, {"csrf", session->csrf}});
    if (path == "/dashboard/api/overview") {
        json view = co_await overview();
        co_return ok(view);
    }
    if (path == "/dashboard/api/queue") {
        json ask{{"cmd", "list"}};
        json list = co_await queue_command(std::move(ask));
        co_return ok(json{{"messages", list.value("messages", json::array())}});
    }
    if (path == "/dashboard/api/failures") {
        json ask{{"cmd", "failures"}};
        json failures = co_await queue_command(std::move(ask));
        co_return ok(json{{"failures", failures.value("failures", json::array())}});
    }
    if (path == "/dashboard/api/domains") {
        json domains = json::object();
        if (domains_) domains = co_await domains_();
        co_return ok(domains);
    }
    co_return error(http::Status::not_found, "no such resource");
}

asio::awaitable<http::Response> Dashboard::post(const http::Request& request,
                                                const http::Peer& peer) {
    if (!options_.networks.contains(peer.address))
        co_return error(http::Status::forbidden, "the dashboard is not open to this address");
    if (cross_site(request, peer.tls))
        co_return error(http::Status::forbidden, "a request from another site is refused");
    if (!is_json(request))
        co_return error(http::Status::unsupported_media_type,
                        "the request body must be application/json");
    std::string_view path = path_of(request);
    if (path == "/dashboard/api/login") {
        http::Response r = co_await login(request, peer);
        co_return r;
    }
    auto session = session_of(request);
    if (!session) co_return error(http::Status::unauthorized, "not logged in");
    if (!auth::equal_constant_time(header(request, "X-CSRF-Token"), session->csrf))
        co_return error(http::Status::forbidden, "missing or wrong X-CSRF-Token");
    if (path == "/dashboard/api/logout") {
        if (auto token = cookie_value(header(request, bfield::cookie), kCookie))
            sessions_.close(*token);
        http::Response r = ok(json{{"ok", true}});
        r.set(bfield::set_cookie, cookie("", peer.tls, true));
        log_.info("dashboard_logout", {{"user", session->user}});
        co_return r;
    }
    if (path != "/dashboard/api/queue")
        co_return error(http::Status::not_found, "no such resource");
    auto body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
        co_return error(http::Status::bad_request, "the body is not a JSON object");
    if (!body.contains("action") || !body["action"].is_string())
        co_return error(http::Status::bad_request, "action is missing", "action");
    std::string action = body["action"];
    if (std::find(std::begin(kActions), std::end(kActions), action) == std::end(kActions))
        co_return error(http::Status::bad_request,
                        "action is not hold, release, retry, delete or bounce", "action");
    if (!body.contains("id") || !body["id"].is_string())
        co_return error(http::Status::bad_request, "id is missing", "id");
    std::string id = body["id"];
    if (!queue_id_shaped(id))
        co_return error(http::Status::bad_request, "id is not a queue id", "id");
    json ask{{"cmd", action}, {"id", id}};
    json reply = co_await queue_command(std::move(ask));
    bool done = reply.value("ok", false);
    log_.info("dashboard_action", {{"user", session->user},
                                   {"action", action},
                                   {"id", id},
                                   {"ok", done},
                                   {"error", reply.value("error", "")}});
    if (!done) co_return error(http::Status::conflict, reply.value("error", "refused"));
    co_return ok(reply);
}

asio::awaitable<http::Response> Dashboard::login(const http::Request& request,
                                                 const http::Peer& peer) {
    auto body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
        co_return error(http::Status::bad_request, "the body is not a JSON object");
    for (const char* field : {"user", "password"})
        if (!body.contains(field) || !body[field].is_string())
            co_return error(http::Status::bad_request, std::string(field) + " is missing", field);
    std::string password = body["password"];
    auto account = auth::normalize_identity(body["user"].get<std::string>());
    std::string client = peer.address.to_string();
    auto now = auth::LoginThrottle::Clock::now();
    if (!account || password.empty() || password.size() > auth::kMaxPassword) {
        // Counted for the client address (no account to count it for), logged, and answered as
        // any other failure.
        throttle_.record_failure(client, "", std::nullopt, now);
        log_.warn("dashboard_login_failed",
                  {{"client", client},
                   {"user", body["user"].get<std::string>().substr(0, 64)},
                   {"reason", !account ? "malformed user name" : "malformed password"}});
        co_return error(http::Status::unauthorized, "wrong user or password, or not an admin");
    }
    if (auto wait = throttle_.wait(client, *account, now); wait.count() > 0) {
        http::Response r =
            error(http::Status::too_many_requests, "too many failed logins; wait and try again");
        r.set(bfield::retry_after, std::to_string((wait.count() + 999) / 1000));
        co_return r;
    }
    // One login at a time per client address and per account: parallel guesses would all pass
    // the throttle before the first failure counts.
    std::string client_key = "client " + client;
    std::string account_key = "account " + *account;
    {
        std::lock_guard lock(logins_mutex_);
        if (logins_in_flight_.count(client_key) || logins_in_flight_.count(account_key)) {
            http::Response r = error(http::Status::too_many_requests,
                                     "another login of this address or account is under way");
            r.set(bfield::retry_after, "1");
            co_return r;
        }
        logins_in_flight_.insert(client_key);
        logins_in_flight_.insert(account_key);
    }
    struct Done {
        Dashboard* self;
        std::string keys[2];
        ~Done() {
            std::lock_guard lock(self->logins_mutex_);
            for (const auto& k : keys)
                self->logins_in_flight_.erase(k);
        }
    } done{this, {client_key, account_key}};
    auto tag = throttle_.tag(password);
    auth::NeedVerify need{auth::NeedVerify::What::kPassword, *account, std::move(password)};
    auth::VerifyAnswer answer =
        co_await verifier_.async_answer(std::move(need), asio::use_awaitable);
    if (answer.status == auth::VerifyAnswer::Status::kTemporary)
        co_return error(http::Status::service_unavailable,
                        "the account database cannot be read now; try again");
    bool admin = std::find(options_.admins.begin(), options_.admins.end(), *account) !=
                 options_.admins.end();
    if (answer.status != auth::VerifyAnswer::Status::kOk || !admin) {
        throttle_.record_failure(client, *account, tag, auth::LoginThrottle::Clock::now());
        log_.warn("dashboard_login_failed",
                  {{"client", client},
                   {"user", *account},
                   {"reason", answer.status == auth::VerifyAnswer::Status::kOk
                                  ? "not an admin"
                                  : "wrong user or password"}});
        co_return error(http::Status::unauthorized, "wrong user or password, or not an admin");
    }
    throttle_.record_success(client, *account);
    auto opened = sessions_.open(*account, SessionStore::Clock::now());
    if (!opened) co_return error(http::Status::internal_server_error, opened.error().message);
    log_.info("dashboard_login", {{"client", client}, {"user", *account}});
    http::Response r = ok(json{{"user", *account}, {"csrf", opened->second.csrf}});
    r.set(bfield::set_cookie, cookie(opened->first, peer.tls));
    co_return r;
}

}  // namespace tern::admin
