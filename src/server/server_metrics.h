// ServerMetrics: what the inbound SMTP listeners count for /metrics (docs/metrics.md):
// connections, open sessions, refusals by stage and reply, messages by result, AUTH and TLS
// failures. Registered once by the daemon; sessions update them from any loop.
#pragma once

#include <string_view>

#include "metrics/metrics.h"
#include "smtp/replies.h"

namespace tern::server {

struct ServerMetrics {
    explicit ServerMetrics(metrics::Registry& registry);

    // A refusal of a pipeline stage (policy, verification, milter...) at `hook`.
    void rejected(std::string_view listener, std::string_view stage, const smtp::Reply& reply);
    // A message's end: "queued", "refused", "discarded", "held".
    void message(std::string_view listener, std::string_view result);

    metrics::Family& connections;    // tern_smtpd_connections_total{listener}
    metrics::Family& refused;        // tern_smtpd_connections_refused_total{reason}
    metrics::Family& sessions;       // tern_smtpd_sessions{listener}: open now
    metrics::Family& rejects;        // tern_smtpd_rejects_total{listener,stage,code,status}
    metrics::Family& messages;       // tern_smtpd_messages_total{listener,result}
    metrics::Family& auth_failures;  // tern_smtpd_auth_failures_total{listener,mechanism}
    metrics::Family& tls_failures;   // tern_smtpd_tls_handshake_failures_total{listener}
};

}  // namespace tern::server
