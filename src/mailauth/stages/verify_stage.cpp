// VerifyStage: a MessageChecks per message fed by the pipeline; at the end its results become
// the Authentication-Results field and the local DMARC policy's verdict.
#include "mailauth/stages/verify_stage.h"

#include <chrono>

#include "mailauth/auth_results_builder.h"
#include "mailauth/message_checks.h"
#include "smtp/replies.h"

namespace tern::mailauth {
namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The SPF question of this session: MAIL FROM, or for a null path the HELO name.
std::optional<SpfRequest> spf_request(const pipeline::SessionInfo& session,
                                      const spool::Message& envelope, const VerifyOptions& o) {
    auto client = IpAddress::parse(session.client_ip);
    if (!o.spf || !client) return std::nullopt;
    SpfRequest request;
    request.client = *client;
    request.helo = session.helo;
    request.sender = envelope.sender;
    request.receiver = o.hostname;
    request.now = unix_now();
    return request;
}

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
    VerifyFilter(VerifyStage& stage, std::optional<SpfRequest> spf)
        : stage_(stage),
          spf_(std::move(spf)),
          checks_(check_options(stage.options()), unix_now()) {}

    void on_header(std::string_view raw) override { checks_.header(raw); }
    void on_end_of_headers() override { checks_.end_headers(); }
    void on_body(std::string_view chunk) override { checks_.body(chunk); }

    boost::asio::awaitable<pipeline::Verdict> on_end(pipeline::MessageView& message) override {
        const VerifyOptions& o = stage_.options();
        auto deadline = std::chrono::steady_clock::now() + o.timeout;
        CheckResults results = co_await checks_.finish(stage_.resolver(), spf_, deadline);
        std::optional<DmarcDisposition> disposition;
        if (results.dmarc) disposition = decide_disposition(*results.dmarc, o.local_policy);

        // RFC 8601 section 5: fields claiming our authserv-id did not come from us.
        std::vector<std::string> ours{o.authserv_id};
        for (std::size_t i = message.fields().size(); i-- > 0;)
            if (claims_authserv_id(message.fields()[i], ours)) message.remove(i);
        message.prepend(format_authentication_results(
            authentication_results(results, o.authserv_id, disposition ? &*disposition : nullptr)));
        message.facts()["mailauth"] = results;
        if (!disposition) co_return pipeline::Verdict::next();
        co_return verdict_of(*disposition, *results.dmarc, message);
    }

  private:
    static CheckOptions check_options(const VerifyOptions& o) {
        return CheckOptions{o.dkim, o.dmarc, o.dkim_options, o.dmarc_options, o.spf_options};
    }

    VerifyStage& stage_;
    std::optional<SpfRequest> spf_;
    MessageChecks checks_;
};

}  // namespace

std::unique_ptr<pipeline::MessageFilter> VerifyStage::start_message(
    const pipeline::SessionInfo& session, const spool::Message& envelope) {
    return std::make_unique<VerifyFilter>(*this, spf_request(session, envelope, options_));
}

}  // namespace tern::mailauth
