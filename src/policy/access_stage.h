// AccessStage: the first stage of the MX and submission pipelines, the one place where Tern decides
// who may send what to whom (docs/policy.md): at MAIL, the senders an authenticated account may use
// (RFC 6409 section 6.1); at RCPT, local recipients against the directory and the accounts, SRS
// addresses of ours, and relay permission for every other domain. The checks after it (lists,
// limits, greylisting, rules, milters) judge only what this stage let through.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "auth/sender_map.h"
#include "base/error.h"
#include "log/logger.h"
#include "pipeline/stage.h"
#include "policy/recipient_policy.h"

namespace tern::policy {

// Whether `address` is an account (`tern user`); an error when the account store cannot be asked.
using AccountExists = std::function<boost::asio::awaitable<Result<bool>>(std::string address)>;

struct AccessOptions {
    const RecipientPolicy* recipients = nullptr;  // required; outlives the stage
    const auth::SenderMap* senders = nullptr;     // null: an account may use any sender
    std::string recipient_delimiter = "+";        // "alice+tag@x" is owned by alice@x's account
    AccountExists account_exists;                 // unset: no accounts beyond the directory
    std::function<std::int64_t()> now;            // Unix seconds (SRS ages); unset: the clock
};

class AccessStage : public pipeline::Stage {
  public:
    explicit AccessStage(AccessOptions options);

    std::string_view name() const override { return "access"; }
    unsigned hooks() const override { return pipeline::kOnMail | pipeline::kOnRcpt; }

    // 553 5.7.1 when an authenticated client names a sender its account does not own.
    boost::asio::awaitable<pipeline::Verdict> on_mail(const pipeline::SessionInfo& session,
                                                      const smtp::MailCommand& mail) override;
    // RecipientPolicy::check, with the accounts as mailboxes too: 550 5.1.1 unknown user,
    // 550 5.4.6 alias loop, 554 5.7.1 relay denied (or an SRS address for bounces only),
    // 451 4.3.0 when the account store cannot be asked.
    boost::asio::awaitable<pipeline::Verdict> on_rcpt(const pipeline::SessionInfo& session,
                                                      const smtp::MailCommand& mail,
                                                      const smtp::RcptCommand& rcpt) override;

    // The reply to a recipient for a client with `facts`: the check of on_rcpt, also used for the
    // recipients a milter adds (trusted to relay, as Postfix trusts a milter).
    boost::asio::awaitable<smtp::Reply> check_recipient(const smtp::ForwardPath& path,
                                                        const ClientFacts& facts) const;

  private:
    AccessOptions options_;
};

}  // namespace tern::policy
