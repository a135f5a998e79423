// SealStage: the body hash of the new ARC-Message-Signature runs as the text streams in; at the
// end the sealer gets the header fields as the stages before left them and the verification
// stage's results, and the new set is prepended (ARC-Seal on top).
#include "mailauth/stages/seal_stage.h"

#include "base/unix_time.h"
#include "mailauth/arc_sealer.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/message_checks.h"
#include "smtp/address.h"

namespace tern::mailauth {
namespace {

// The results of this host's Authentication-Results without the authserv-id, as the
// ARC-Authentication-Results carries them ("spf=pass smtp.mailfrom=...; dkim=...").
std::string results_payload(const CheckResults& results, const std::string& authserv_id) {
    std::string payload;
    for (const ResultInfo& info : authentication_results(results, authserv_id).results) {
        if (!payload.empty()) payload += "; ";
        payload += format_result_info(info);
    }
    return payload;
}

class SealFilter : public pipeline::MessageFilter {
  public:
    SealFilter(const SealStage& stage, SigningKey key)
        : stage_(stage), key_(key), sealer_(ArcSealOptions{}, std::move(key), unix_now()) {}

    void on_body(std::string_view chunk) override { sealer_.body(chunk); }

    // A milter before this stage replaced the body: the seal covers the new one.
    void on_body_replaced(std::string_view body) override {
        sealer_ = ArcSealer(ArcSealOptions{}, key_, unix_now());
        sealer_.body(body);
    }

    boost::asio::awaitable<pipeline::Verdict> on_end(pipeline::MessageView& message) override {
        // Without the verification stage's ARC result the chain status is unknown, and a seal
        // with a wrong cv= would vouch for what nobody checked.
        auto found = message.facts().find("mailauth");
        const CheckResults* results =
            found == message.facts().end() ? nullptr : std::any_cast<CheckResults>(&found->second);
        if (!results || !results->arc) co_return pipeline::Verdict::next();
        for (const std::string& field : message.fields())
            sealer_.header(field);
        sealer_.end_headers();
        sealer_.end_body();
        const std::string& authserv_id = stage_.options().authserv_id;
        auto set = sealer_.seal(results->arc->chain_status(), authserv_id,
                                results_payload(*results, authserv_id));
        // A chain that cannot be extended (cv=fail already, 50 sets) goes on unsealed; the
        // receiver judges it as it stands.
        if (!set) co_return pipeline::Verdict::next();
        for (auto it = set->rbegin(); it != set->rend(); ++it)
            message.prepend(std::move(*it));
        co_return pipeline::Verdict::next();
    }

  private:
    const SealStage& stage_;
    SigningKey key_;
    ArcSealer sealer_;
};

}  // namespace

std::optional<std::string> forwarding_domain(
    const spool::Message& envelope,
    const std::function<bool(std::string_view domain)>& is_local_domain) {
    if (!is_local_domain) return std::nullopt;
    for (const auto& r : envelope.recipients) {
        std::string to = smtp::domain_of(r.address);
        std::string from = smtp::domain_of(r.original);
        if (!to.empty() && !is_local_domain(to) && !from.empty() && is_local_domain(from))
            return from;
    }
    return std::nullopt;
}

std::optional<SigningKey> SealStage::key_for(std::string_view domain) const {
    for (const SigningKey& key : keys_.for_domain(domain))
        if (key.key && key.key->type() == KeyType::kRsa) return key;
    return std::nullopt;
}

std::unique_ptr<pipeline::MessageFilter> SealStage::start_message(
    const pipeline::SessionInfo& session, const spool::Message& envelope) {
    // Mail of trusted clients is our own and gets DKIM signatures instead.
    if (session.trusted) return nullptr;
    auto domain = forwarding_domain(envelope, options_.is_local_domain);
    if (!domain) return nullptr;
    auto key = key_for(*domain);
    if (!key) return nullptr;
    return std::make_unique<SealFilter>(*this, std::move(*key));
}

}  // namespace tern::mailauth
