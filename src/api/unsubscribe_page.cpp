// UnsubscribePage: small HTML pages (no scripts, nothing fetched from elsewhere), one addition to
// the list per POST, the event after it is stored.
#include "api/unsubscribe_page.h"

#include <boost/asio/use_awaitable.hpp>

#include "base/text.h"
#include "base/unix_time.h"

namespace tern::api {
namespace asio = boost::asio;
namespace {

http::Response page(http::Status status, std::string_view title, const std::string& body) {
    std::string html =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\">"
        "<meta name=\"robots\" content=\"noindex\"><title>" +
        html_escape(title) +
        "</title></head>\n<body style=\"font-family:sans-serif;"
        "max-width:32em;margin:3em auto;padding:0 1em\">\n<h1>" +
        html_escape(title) + "</h1>\n" + body + "</body></html>\n";
    auto r = http::text_response(status, std::move(html), "text/html; charset=utf-8");
    r.set(boost::beast::http::field::cache_control, "no-store");
    r.set("Referrer-Policy", "no-referrer");
    r.set("Content-Security-Policy",
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    return r;
}

}  // namespace

void UnsubscribePage::mount(http::HttpServer& server) {
    for (auto verb : {http::Verb::get, http::Verb::post})
        server.route(verb, std::string(kPrefix),
                     [this](const http::Request& request,
                            const http::Peer& peer) -> asio::awaitable<http::Response> {
                         co_return co_await handle(request, peer);
                     });
}

asio::awaitable<http::Response> UnsubscribePage::handle(const http::Request& request,
                                                        const http::Peer& peer) {
    std::string_view target = request.target();
    std::string_view token = target.substr(kPrefix.size());
    token = token.substr(0, token.find('?'));
    auto who = tokens_.read(token);
    if (!who)
        co_return page(http::Status::not_found, "Link not valid",
                       "<p>This unsubscribe link is not valid (it may have been cut or changed "
                       "on the way). Use the link of a message you received.</p>\n");
    if (request.method() != http::Verb::post) {
        // RFC 8058 section 3.2: never on GET (nor HEAD, which the server hands the GET route).
        co_return page(http::Status::ok, "Unsubscribe",
                       "<p>Stop sending mail to <strong>" + html_escape(who->address) +
                           "</strong>?</p>\n<form method=\"post\"><input type=\"hidden\" "
                           "name=\"confirm\" value=\"yes\"><button "
                           "type=\"submit\">Unsubscribe</button></form>\n");
    }
    if (!list_)
        co_return page(http::Status::service_unavailable, "Try again later",
                       "<p>Unsubscribing is not possible right now.</p>\n");
    std::int64_t now = unix_now();
    suppress::Suppression s;
    s.address = suppress::normalize_address(who->address);
    s.reason = suppress::Reason::kUnsubscribe;
    s.detail = request.body().find("List-Unsubscribe=One-Click") != std::string::npos
                   ? "one-click"
                   : "unsubscribe page";
    s.source = who->key.empty() ? "unsubscribe" : "unsubscribe:" + who->key;
    s.created = now;
    // A named job: g++ 12 destroys a lambda temporary of a co_await twice.
    auto add = [entries = std::vector<suppress::Suppression>{s}](
                   Result<suppress::SuppressionDb*> db) -> Result<std::size_t> {
        if (!db) return std::unexpected(db.error());
        return (*db)->add(entries, false);
    };
    auto added =
        co_await list_->async_run<Result<std::size_t>>(std::move(add), asio::use_awaitable);
    if (!added) {
        log_.error("unsubscribe", {{"error", added.error().message}});
        co_return page(http::Status::service_unavailable, "Try again later",
                       "<p>Unsubscribing is not possible right now; please try again later.</p>\n");
    }
    log_.info("unsubscribed", {{"address", s.address},
                               {"key", who->key},
                               {"client", peer.address.to_string()},
                               {"via", s.detail},
                               {"new", *added}});
    // The event once per address: a second click (or a client's retry) changes nothing.
    if (events_ && *added > 0) {
        events::Event e;
        e.time = now;
        e.type = "unsubscribed";
        e.recipient = who->address;
        e.source = "http";
        e.auth = who->key;
        e.category = s.detail;
        events_->record(std::move(e));
    }
    co_return page(http::Status::ok, "Unsubscribed",
                   "<p><strong>" + html_escape(who->address) +
                       "</strong> will get no more of this mail.</p>\n");
}

}  // namespace tern::api
