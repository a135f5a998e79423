// EventsApi: polling the event log. The cursor is the seq of the last event looked at ("next"),
// so a client that stores it after each page sees every event once, in order, whatever else is
// filtered out for its key.
#include "api/events_api.h"

#include <nlohmann/json.hpp>

#include "api/api_auth.h"
#include "api/query.h"

namespace tern::api {
namespace asio = boost::asio;

void EventsApi::mount(http::HttpServer& server) {
    server.route(http::Verb::get, "/api/v1/events",
                 [this](const http::Request& request,
                        const http::Peer& peer) -> asio::awaitable<http::Response> {
                     co_return co_await get_events(request, peer);
                 });
}

asio::awaitable<http::Response> EventsApi::get_events(const http::Request& request,
                                                      const http::Peer& peer) {
    auto key = authenticate(request, peer, keys_, log_);
    if (!key) co_return std::move(key.error());
    std::string_view target = request.target();
    std::uint64_t after = 0;
    std::size_t limit = kDefaultLimit;
    if (auto v = query_value(target, "after")) {
        auto n = parse_number(*v);
        if (!n) co_return http::json_error(http::Status::bad_request, "not a number", "after");
        after = *n;
    }
    if (auto v = query_value(target, "limit")) {
        auto n = parse_number(*v);
        if (!n || *n == 0 || *n > kMaxLimit)
            co_return http::json_error(http::Status::bad_request,
                                       "must be 1 to " + std::to_string(kMaxLimit), "limit");
        limit = static_cast<std::size_t>(*n);
    }
    // A key sees the events of the mail sent with it; a key for any domain sees every event.
    // (Not "mail from its domains": anyone can write such a sender on mail from outside.)
    auto keep = [&key](const events::Event& e) {
        return key->domains.empty() || (e.source == "http" && e.auth == key->name);
    };
    auto page = events_.read(after, limit, keep);
    if (!page) {
        log_.error("events_read", {{"error", page.error().message}});
        co_return http::json_error(http::Status::service_unavailable,
                                   "the event log cannot be read now");
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : page->events)
        list.push_back(nlohmann::json::parse(events::to_json_line(e)));
    nlohmann::json body{{"events", std::move(list)}, {"next", page->next}};
    co_return http::json_response(
        http::Status::ok,
        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace tern::api
