// SuppressionsApi: the suppression list over HTTP (docs/api.md, docs/suppression.md).
//   GET    /api/v1/suppressions?after=ADDRESS&limit=N   a page of the global list
//   GET    /api/v1/suppressions/ADDRESS                 one entry, or 404
//   PUT    /api/v1/suppressions                         {"suppressions": [{address, reason,
//                                                        detail}, ...]}: many at once
//   PUT    /api/v1/suppressions/ADDRESS                 one ({"reason", "detail"} optional)
//   DELETE /api/v1/suppressions/ADDRESS                 takes it off the list
// Any key may add an address; reading and deleting need a key for any sender domain ('*'):
// a key for one shop must not see, or undo, who unsubscribed from another.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <expected>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/message_request.h"
#include "auth/api_keys.h"
#include "http/server.h"
#include "log/logger.h"
#include "suppress/suppression_list.h"

namespace tern::api {

// The entries of a PUT's JSON body: {"suppressions": [...]} (`address` empty) or, for one
// ADDRESS, an object with optional reason and detail (`address` given; an empty body is {}).
// Addresses are checked as RFC 5321 mailboxes and normalized; reason is bounce, complaint,
// unsubscribe or manual (the default); detail at most 1,000 octets; at most `max_entries`.
std::expected<std::vector<suppress::Suppression>, RequestError> parse_suppression_request(
    std::string_view body, std::string_view address, std::size_t max_entries,
    std::size_t max_depth);

class SuppressionsApi {
  public:
    static constexpr std::size_t kDefaultLimit = 100;
    static constexpr std::size_t kMaxLimit = 1000;

    SuppressionsApi(suppress::SuppressionList& list, auth::ApiKeyStore& keys,
                    std::size_t max_entries, std::size_t max_depth, log::Logger& log)
        : list_(list), keys_(keys), max_entries_(max_entries), max_depth_(max_depth), log_(log) {}

    void mount(http::HttpServer& server);

    boost::asio::awaitable<http::Response> handle(const http::Request& request,
                                                  const http::Peer& peer);

  private:
    suppress::SuppressionList& list_;
    auth::ApiKeyStore& keys_;
    std::size_t max_entries_;
    std::size_t max_depth_;
    log::Logger& log_;
};

// An entry as the API and `tern suppress list --json` show it.
nlohmann::json suppression_json(const suppress::Suppression& s);

}  // namespace tern::api
