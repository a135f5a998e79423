// EventsApi: GET /api/v1/events (docs/events.md): the event log read with a cursor, each key
// seeing the events of the messages sent with it (a key for any domain: all of them).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "auth/api_keys.h"
#include "events/event_log.h"
#include "http/server.h"
#include "log/logger.h"

namespace tern::api {

class EventsApi {
  public:
    static constexpr std::size_t kDefaultLimit = 100;
    static constexpr std::size_t kMaxLimit = 1000;

    EventsApi(const events::EventLog& log, auth::ApiKeyStore& keys, log::Logger& logger)
        : events_(log), keys_(keys), log_(logger) {}

    void mount(http::HttpServer& server);

    boost::asio::awaitable<http::Response> get_events(const http::Request& request,
                                                      const http::Peer& peer);

  private:
    const events::EventLog& events_;
    auth::ApiKeyStore& keys_;
    log::Logger& log_;
};

}  // namespace tern::api
