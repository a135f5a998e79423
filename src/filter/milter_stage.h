// MilterStage: the pipeline stage that passes each message through one milter (rspamd, OpenDKIM,
// any libmilter filter) at the end of data, and applies what the filter decided: reject, tempfail,
// discard, quarantine (hold), its own reply code, header edits, envelope changes and a new body. A
// chain of milters is one stage per milter, in order. docs/filters.md says what Tern does with each
// action.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "filter/milter_client.h"
#include "log/logger.h"
#include "pipeline/stage.h"

namespace tern::filter {

struct MilterSettings {
    MilterClientOptions client;
    // When the filter cannot be reached, times out, breaks the protocol or closes early: false
    // defers the message (451 4.7.1), true accepts it as if the filter were not there.
    bool accept_on_failure = false;
    // Octets of body kept for the filter while the message arrives; a larger message passes
    // this filter unchecked (logged), so memory stays bounded. The same bound applies to a body
    // the filter sends back (client.max_replaced_body).
    std::size_t max_body = 10 << 20;
    std::string hostname;  // our name: macro j
};

class MilterStage : public pipeline::Stage {
  public:
    MilterStage(MilterSettings settings, log::Logger& log);

    std::string_view name() const override { return name_; }
    unsigned hooks() const override { return pipeline::kOnMessage; }
    std::unique_ptr<pipeline::MessageFilter> start_message(const pipeline::SessionInfo& session,
                                                           const spool::Message& envelope) override;
    // Ends the conversations under way (their messages get the failure action) and refuses
    // new ones.
    void stop() override { conversations_.stop_all(); }

    const MilterSettings& settings() const { return settings_; }
    log::Logger& log() { return log_; }
    MilterConversations& conversations() { return conversations_; }

  private:
    MilterSettings settings_;
    log::Logger& log_;
    std::string name_;
    MilterConversations conversations_;  // "milter inet:127.0.0.1:11332"
};

// What a filter is told about a message: the session, the envelope, the header fields as the
// stages before left them, the body. Exposed for tests.
MilterMessage milter_message(const pipeline::SessionInfo& session, const spool::Message& envelope,
                             const std::vector<std::string>& fields, std::string_view body,
                             const std::string& hostname);

// Sets the MAIL and RCPT steps of `m` (arguments and macros) for this envelope: the sender ("" for
// <>) with its ESMTP parameters, and each recipient (address, parameters).
void set_envelope(MilterMessage& m, const std::string& id, const std::string& sender,
                  const std::string& sender_args,
                  const std::vector<std::pair<std::string, std::string>>& recipients);

// A replacement body (SMFIR_REPLBODY) with every line end CRLF (a bare CR or LF becomes one) and
// a final line end, as the stored text needs it.
std::string crlf_body(std::string_view body);

// A header field from a filter's name and value ("Name: value\r\n", folds as CRLF); empty when
// the name or value would not make one well-formed field (a bare CR, an empty or unindented
// continuation line, a name with a colon or a control character).
std::string header_field(std::string_view name, std::string_view value, bool leading_space);

// The position in `fields` of the `nth` (1-based) field named `name` (case-insensitive), as
// chgheader counts (Sendmail, Postfix); npos when there are fewer.
std::size_t nth_field(const std::vector<std::string>& fields, std::string_view name,
                      std::uint32_t nth);

}  // namespace tern::filter
