// PolicyStage: the pipeline stage of the built-in policy checks (docs/policy.md): DNS block and
// allow lists with weighted scores (as Postfix's postscreen), rate limits per client address,
// authenticated account and sender domain, and greylisting. Trusted clients (authenticated, relay
// networks) are not judged by the lists or the per-address limits; their accounts have limits of
// their own.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/answer.h"
#include "log/logger.h"
#include "pipeline/stage.h"
#include "policy/dnsbl.h"
#include "policy/greylist.h"
#include "policy/policy_store.h"
#include "policy/rate.h"

namespace tern::policy {

enum class ListedAction {
    kReject,  // 554 5.7.1 at RCPT (Postfix's reject_rbl_client, postscreen's enforce)
    kDefer,   // 450 4.7.1 at RCPT
    kLog,     // log the score and go on (to try a list before enforcing it)
    kScore,   // add the list score to the message's score (item "dnsbl") and go on
};

// Asks DNS; the daemon binds it to the resolver, tests to a table.
using Lookup = std::function<boost::asio::awaitable<dns::Answer>(std::string, dns::RecordType)>;

// The domain of `sender` when its SPF check for the session's client passes; "" otherwise. The
// daemon binds it to the SPF evaluator and the resolver (whose cache the verification stage's
// check at the end of the message then reuses), tests to a table.
using SpfPassDomain = std::function<boost::asio::awaitable<std::string>(
    const pipeline::SessionInfo& session, const std::string& sender)>;

struct PolicyOptions {
    std::vector<DnsblSite> dnsbl_sites;
    int dnsbl_threshold = 1;      // a score at or above this is listed
    int allowlist_threshold = 0;  // a score at or below this (negative) is allow-listed; 0 = off
    ListedAction listed_action = ListedAction::kReject;

    Rate client_connections;      // per client address (connect)
    Rate client_messages;         // per client address (MAIL)
    Rate client_recipients;       // per client address (RCPT)
    Rate account_messages;        // per authenticated account (MAIL)
    Rate account_recipients;      // per authenticated account (RCPT)
    Rate sender_domain_messages;  // per envelope sender domain (MAIL); "<>" counts as its own

    std::optional<GreylistOptions> greylist;  // none = no greylisting
    // Greylist a sender whose SPF check passes by its domain ("spf:domain") instead of the
    // client's network, so that a big sender retrying from another address of its pool passes.
    bool greylist_by_spf = false;
    SpfPassDomain spf_pass_domain;  // needed by greylist_by_spf
};

// What the lists said about one client.
struct ListScore {
    int score = 0;
    std::vector<std::string> listed_by;  // sites whose answer matched, with their weight
    std::string first_block;             // the first matching site with a positive weight
    std::string first_block_text;        // its TXT record, when it has one
};

class PolicyStage : public pipeline::Stage {
  public:
    // `store` keeps rate allowances and greylist state (made with options.greylist).
    PolicyStage(PolicyOptions options, Lookup lookup, std::shared_ptr<PolicyStore> store,
                log::Logger& log);

    std::string_view name() const override { return "policy"; }
    unsigned hooks() const override { return hooks_; }
    // The hooks a stage with these options has; 0 when nothing is configured (no stage needed).
    static unsigned hooks_for(const PolicyOptions& options);

    boost::asio::awaitable<pipeline::Verdict> on_connect(
        const pipeline::SessionInfo& session) override;
    boost::asio::awaitable<pipeline::Verdict> on_mail(const pipeline::SessionInfo& session,
                                                      const smtp::MailCommand& mail) override;
    boost::asio::awaitable<pipeline::Verdict> on_rcpt(const pipeline::SessionInfo& session,
                                                      const smtp::MailCommand& mail,
                                                      const smtp::RcptCommand& rcpt) override;

    // Every site asked at once; the score of their answers (answers come from the resolver's
    // cache after the first session of a client).
    boost::asio::awaitable<ListScore> score(const std::string& client_ip);

  private:
    boost::asio::awaitable<bool> within(const std::string& kind, const std::string& who,
                                        const Rate& rate, const pipeline::SessionInfo& session);
    pipeline::Verdict over(const std::string& kind, const std::string& who, const Rate& rate,
                           smtp::ReplyName reply);

    PolicyOptions options_;
    Lookup lookup_;
    std::shared_ptr<PolicyStore> store_;
    log::Logger& log_;
    unsigned hooks_ = 0;
};

}  // namespace tern::policy
