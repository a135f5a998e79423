// VerifyStage: a MessageChecks per message fed by the pipeline; at the end its results become
// the Authentication-Results field and the local DMARC policy's verdict.
#include "mailauth/stages/verify_stage.h"

#include <chrono>

#include "base/unix_time.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/message_checks.h"
#include "smtp/address.h"
#include "smtp/replies.h"

namespace tern::mailauth {
namespace {}  // namespace

std::optional<SpfRequest> session_spf_request(const pipeline::SessionInfo& session,
                                              std::string sender, std::string receiver) {
    auto client = IpAddress::parse(session.client_ip);
    if (!client) return std::nullopt;
    SpfRequest request;
    request.client = *client;
    request.helo = session.helo;
    request.sender = std::move(sender);
    request.receiver = std::move(receiver);
    request.now = unix_now();
    return request;
}

namespace {

pipeline::Verdict verdict_of(const DmarcDisposition& d, const DmarcResult& dmarc,
                             pipeline::MessageView& message) {
    std::string why = "DMARC " + std::string(result_name(dmarc.result)) + " for " +
                      dmarc.author_domain + ": " + dmarc.reason;
    switch (d.action) {
        case DmarcAction::kReject:
            return pipeline::Verdict::reject(
                d.reply.value_or(smtp::reply(smtp::ReplyName::kDmarcRejected)), why);
        case DmarcAction::kDefer:
            return pipeline::Verdict::defer(
                d.reply.value_or(smtp::reply(smtp::ReplyName::kDmarcTemporary)), why);
        case DmarcAction::kHold:
            return pipeline::Verdict::hold(why);
        case DmarcAction::kTag:
            if (!d.header_field.empty()) message.prepend(d.header_field);
            return pipeline::Verdict::next();
        case DmarcAction::kAccept:
            break;
    }
    return pipeline::Verdict::next();
}

class VerifyFilter : public pipeline::MessageFilter {
  public:
    VerifyFilter(VerifyStage& stage, std::optional<SpfRequest> spf, bool enforce,
                 std::string auth_user)
        : stage_(stage),
          spf_(std::move(spf)),
          enforce_(enforce),
          auth_user_(std::move(auth_user)),
          checks_(check_options(stage.options()), unix_now()) {}

    void on_header(std::string_view raw) override { checks_.header(raw); }
    void on_end_of_headers() override { checks_.end_headers(); }
    void on_body(std::string_view chunk) override { checks_.body(chunk); }

    boost::asio::awaitable<pipeline::Verdict> on_end(pipeline::MessageView& message) override {
        const VerifyOptions& o = stage_.options();
        auto deadline = std::chrono::steady_clock::now() + o.timeout;
        CheckResults results = co_await checks_.finish(stage_.resolver(), spf_, deadline);

        // RFC 8601 section 5: fields claiming our authserv-id did not come from us.
        std::vector<std::string> ours{o.authserv_id};
        for (std::size_t i = message.fields().size(); i-- > 0;)
            if (claims_authserv_id(message.fields()[i], ours)) message.remove(i);
        AuthenticationResults field = authentication_results(results, o.authserv_id);
        if (!auth_user_.empty())  // RFC 8601 section 2.7.4: the client authenticated (SMTP AUTH)
            field.results.push_back({"auth", "", "pass", "", "", {{"smtp", "auth", auth_user_}}});
        message.prepend(format_authentication_results(field));
        message.facts()["mailauth"] = results;
        if (!results.disposition || !enforce_) co_return pipeline::Verdict::next();
        co_return verdict_of(*results.disposition, *results.dmarc, message);
    }

  private:
    static CheckOptions check_options(const VerifyOptions& o) {
        CheckOptions c;
        c.dkim = o.dkim;
        c.dmarc = o.dmarc;
        c.arc = o.arc;
        c.dkim_options = o.dkim_options;
        c.dmarc_options = o.dmarc_options;
        c.spf_options = o.spf_options;
        c.local_policy = o.local_policy;
        return c;
    }

    VerifyStage& stage_;
    std::optional<SpfRequest> spf_;
    bool enforce_;           // act on DMARC (untrusted clients only)
    std::string auth_user_;  // the SMTP AUTH identity, for auth=pass
    MessageChecks checks_;
};

}  // namespace

std::unique_ptr<pipeline::MessageFilter> VerifyStage::start_message(
    const pipeline::SessionInfo& session, const spool::Message& envelope) {
    if (session.trusted) {
        bool inbound = false;
        for (const auto& r : envelope.recipients)
            if (options_.is_local_domain && options_.is_local_domain(smtp::domain_of(r.address)))
                inbound = true;
        if (!inbound) return nullptr;  // our own outbound mail: the signing stage's business
    }
    auto spf = options_.spf ? session_spf_request(session, envelope.sender, options_.hostname)
                            : std::nullopt;
    return std::make_unique<VerifyFilter>(*this, std::move(spf), !session.trusted,
                                          session.auth_user);
}

}  // namespace tern::mailauth
