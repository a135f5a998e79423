// MessageApi: POST /api/v1/messages (docs/api.md). A request, checked whole, becomes messages —
// one for each recipient from structured content (rendered from its templates when the request
// carries substitutions), or one for every recipient from a raw RFC 5322 message — that pass the
// local pipeline (DKIM signing) and the spool's injector, as mail from SMTP does. A 2xx means every
// message it lists as queued is on disk. Recipients on the suppression list are refused, each
// with the reason, and reported as "suppressed" events.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "api/idempotency.h"
#include "api/message_request.h"
#include "auth/api_keys.h"
#include "base/db_worker.h"
#include "events/event.h"
#include "feedback/sent_index.h"
#include "feedback/unsubscribe_token.h"
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
    std::size_t max_template_depth = 16;         // nested Mustache sections
    std::int64_t idempotency_retention = 86400;  // seconds an answer is kept for its key
    std::int64_t sent_retention = 30 * 86400;    // seconds a message's sender is kept (feedback)
    std::string unsubscribe_url;  // "https://host[:port]": where .../unsubscribe/TOKEN is served
};

using IdempotencyStore = DbWorker<IdempotencyDb>;

// What the API uses besides the spool; each may be null (then that part is off).
struct MessageApiServices {
    const pipeline::PipelineSlot* stages = nullptr;     // the local pipeline's slot
    suppress::SuppressionList* suppressions = nullptr;  // whose addresses are refused
    events::EventSink* events = nullptr;                // told of each refusal
    IdempotencyStore* idempotency = nullptr;            // answers kept per Idempotency-Key
    feedback::SentIndex* sent = nullptr;  // who sent each message, for reports that come back
    const feedback::UnsubscribeTokens* unsubscribe = nullptr;  // signs List-Unsubscribe URLs
};

class MessageApi {
  public:
    // All references (and the services) outlive the MessageApi.
    MessageApi(MessageApiOptions options, auth::ApiKeyStore& keys, spool::Injector& injector,
               const policy::RecipientPolicy& recipients, MessageApiServices services,
               log::Logger& log);

    // Mounts POST /api/v1/messages.
    void mount(http::HttpServer& server);

    // The key, then the Idempotency-Key (an answer given before is given again), then
    // send_messages().
    boost::asio::awaitable<http::Response> post_messages(const http::Request& request,
                                                         const http::Peer& peer);

  private:
    boost::asio::awaitable<http::Response> send_messages(const http::Request& request,
                                                         const http::Peer& peer,
                                                         const auth::ApiKey& key);

    MessageApiOptions options_;
    auth::ApiKeyStore& keys_;
    spool::Injector& injector_;
    const policy::RecipientPolicy& recipients_;
    const pipeline::PipelineSlot* stages_;
    suppress::SuppressionList* suppressions_;
    events::EventSink* events_;
    IdempotencyStore* idempotency_;
    feedback::SentIndex* sent_;
    const feedback::UnsubscribeTokens* unsubscribe_;
    log::Logger& log_;
};

}  // namespace tern::api
