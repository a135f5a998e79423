// MessageApi: POST /api/v1/messages (docs/api.md). A request, checked whole, becomes messages —
// one for each recipient from structured content (rendered from its templates when the request
// carries substitutions), or one for every recipient from a raw RFC 5322 message — that pass the
// local pipeline (DKIM signing) and the spool's injector, as mail from SMTP does. A 2xx means every
// message it lists as queued is on disk. Recipients on the suppression list are refused, each
// with the reason, and reported as "suppressed" events.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "api/message_request.h"
#include "auth/api_keys.h"
#include "events/event.h"
#include "http/server.h"
#include "log/logger.h"
#include "pipeline/pipeline.h"
#include "policy/recipient_policy.h"
#include "spool/injector.h"
#include "suppress/suppression_list.h"

namespace tern::api {

struct MessageApiOptions {
    std::string hostname;  // for Received fields and Message-IDs
    RequestLimits limits;
    std::size_t max_template_depth = 16;  // nested Mustache sections
};

class MessageApi {
  public:
    // All references outlive the MessageApi; `stages` is the local pipeline's slot, `suppressions`
    // the list whose addresses are refused, `events` told of each refusal (each may be null).
    MessageApi(MessageApiOptions options, auth::ApiKeyStore& keys, spool::Injector& injector,
               const policy::RecipientPolicy& recipients, const pipeline::PipelineSlot* stages,
               suppress::SuppressionList* suppressions, events::EventSink* events,
               log::Logger& log);

    // Mounts POST /api/v1/messages.
    void mount(http::HttpServer& server);

    boost::asio::awaitable<http::Response> post_messages(const http::Request& request,
                                                         const http::Peer& peer);

  private:
    MessageApiOptions options_;
    auth::ApiKeyStore& keys_;
    spool::Injector& injector_;
    const policy::RecipientPolicy& recipients_;
    const pipeline::PipelineSlot* stages_;
    suppress::SuppressionList* suppressions_;
    events::EventSink* events_;
    log::Logger& log_;
};

}  // namespace tern::api
