// ServerMetrics: the families of the inbound listeners.
#include "server/server_metrics.h"

#include <string>

namespace tern::server {

ServerMetrics::ServerMetrics(metrics::Registry& r)
    : connections(r.counter("tern_smtpd_connections_total",
                            "SMTP connections accepted, by listener.", {"listener"})),
      refused(r.counter("tern_smtpd_connections_refused_total",
                        "SMTP connections answered 421 at once, by the limit that refused them.",
                        {"reason"})),
      sessions(
          r.gauge("tern_smtpd_sessions", "SMTP sessions open now, by listener.", {"listener"})),
      rejects(r.counter("tern_smtpd_rejects_total",
                        "Commands and messages refused by a pipeline stage, by listener, stage, "
                        "reply code and enhanced status code.",
                        {"listener", "stage", "code", "status"})),
      messages(r.counter("tern_smtpd_messages_total",
                         "Messages at the end of DATA, by listener and result (queued, refused, "
                         "discarded, held).",
                         {"listener", "result"})),
      auth_failures(r.counter("tern_smtpd_auth_failures_total",
                              "Failed AUTH exchanges, by listener and SASL mechanism.",
                              {"listener", "mechanism"})),
      tls_failures(r.counter("tern_smtpd_tls_handshake_failures_total",
                             "Inbound TLS handshakes that failed, by listener.", {"listener"})) {}

void ServerMetrics::rejected(std::string_view listener, std::string_view stage,
                             const smtp::Reply& reply) {
    rejects
        .counter(
            {std::string(listener), std::string(stage), std::to_string(reply.code), reply.status})
        .add();
}

void ServerMetrics::message(std::string_view listener, std::string_view result) {
    messages.counter({std::string(listener), std::string(result)}).add();
}

}  // namespace tern::server
