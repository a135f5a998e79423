// SignStage: the From domain is known at the end of the header section, so the signer (and its
// body hash) starts there; the header fields it signs are those of the end of the message, as
// the earlier stages left them.
#include "mailauth/stages/sign_stage.h"

#include "base/unix_time.h"
#include "mailauth/author_domain.h"

namespace tern::mailauth {
namespace {

class SignFilter : public pipeline::MessageFilter {
  public:
    explicit SignFilter(const SignStage& stage) : stage_(stage) {}

    void on_header(std::string_view raw) override { author_.header_field(raw); }

    void on_end_of_headers() override {
        AuthorDomain author = author_.result();
        if (!author.domain) return;  // no single From domain: nothing of ours to sign
        keys_ = stage_.keys().for_domain(*author.domain);
        if (keys_.empty()) return;
        signer_.emplace(stage_.options(), keys_, unix_now());
    }

    void on_body(std::string_view chunk) override {
        if (signer_) signer_->body(chunk);
    }

    // A milter before this stage replaced the body: the signature covers the new one.
    void on_body_replaced(std::string_view body) override {
        if (!signer_) return;
        signer_.emplace(stage_.options(), keys_, unix_now());
        signer_->body(body);
    }

    boost::asio::awaitable<pipeline::Verdict> on_end(pipeline::MessageView& message) override {
        if (!signer_) co_return pipeline::Verdict::next();
        for (const std::string& field : message.fields())
            signer_->header(field);
        signer_->end_headers();
        signer_->end_body();
        auto signatures = signer_->signatures();
        // A message we cannot sign still goes out; receivers judge it unsigned.
        if (!signatures) co_return pipeline::Verdict::next();
        // Prepended in reverse so that they stand in the keys' order, above everything.
        for (auto it = signatures->rbegin(); it != signatures->rend(); ++it)
            message.prepend(std::move(*it));
        co_return pipeline::Verdict::next();
    }

  private:
    const SignStage& stage_;
    AuthorDomainFinder author_;
    std::vector<SigningKey> keys_;  // of the From domain
    std::optional<DkimSigner> signer_;
};

}  // namespace

std::unique_ptr<pipeline::MessageFilter> SignStage::start_message(
    const pipeline::SessionInfo& session, const spool::Message&) {
    bool ours = session.trusted || session.source == pipeline::Source::kLocal ||
                session.source == pipeline::Source::kApi;
    if (!ours || keys_.empty()) return nullptr;
    return std::make_unique<SignFilter>(*this);
}

}  // namespace tern::mailauth
