// UnsubscribePage: the one-click unsubscribe endpoint (RFC 8058, docs/feedback.md) on the HTTP
// listener: POST /unsubscribe/TOKEN (what mail clients send for List-Unsubscribe-Post, and the
// page's own button) puts the recipient the token names on the suppression list, reason
// "unsubscribe", and makes an "unsubscribed" event; GET shows a page that asks, and never
// unsubscribes anyone (link scanners and previews fetch every URL of a message). No API key:
// the token's signature is the permission.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "events/event.h"
#include "feedback/unsubscribe_token.h"
#include "http/server.h"
#include "log/logger.h"
#include "suppress/suppression_list.h"

namespace tern::api {

class UnsubscribePage {
  public:
    // `list` null: the suppression list is off, unsubscribing answers 503.
    UnsubscribePage(const feedback::UnsubscribeTokens& tokens, suppress::SuppressionList* list,
                    events::EventSink* events, log::Logger& log)
        : tokens_(tokens), list_(list), events_(events), log_(log) {}

    void mount(http::HttpServer& server);

    static constexpr std::string_view kPrefix = "/unsubscribe/";

  private:
    boost::asio::awaitable<http::Response> handle(const http::Request& request,
                                                  const http::Peer& peer);

    const feedback::UnsubscribeTokens& tokens_;
    suppress::SuppressionList* list_;
    events::EventSink* events_;
    log::Logger& log_;
};

}  // namespace tern::api
