// ArcSealer: the existing sets are read when the header ends, the AMS is made by a DkimSigner
// in its ARC mode (its body hash may run ahead of the header fields), and the seal signs the sets
// in order with the new one last.
#include "mailauth/arc_sealer.h"

#include "base/base64.h"
#include "mailauth/arc_set.h"
#include "mailauth/header_hash.h"

namespace tern::mailauth {
namespace {

DkimSignOptions signing_options(const ArcSealOptions& options) {
    DkimSignOptions o;
    o.header_canon = Canon::kRelaxed;
    o.body_canon = Canon::kRelaxed;
    o.oversigned = options.oversigned;
    o.signed_fields = options.signed_fields;
    return o;
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// An authserv-id as RFC 8601 writes it unquoted: printable, no white space nor ';'.
bool is_authserv_id(std::string_view id) {
    if (id.empty()) return false;
    for (char c : id) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F || c == ';' || c == '"' || c == '(' || c == ')') return false;
    }
    return true;
}

// Results text that can sit in a header field: no controls, CR LF only before white space.
bool is_field_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto u = static_cast<unsigned char>(text[i]);
        if (text[i] == '\r') {
            if (i + 2 >= text.size() || text[i + 1] != '\n' || !is_wsp(text[i + 2])) return false;
            ++i;
        } else if ((u < 0x20 && text[i] != '\t') || u == 0x7F) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::vector<std::string> default_arc_signed_fields() {
    auto fields = default_signed_fields();
    fields.emplace_back("DKIM-Signature");
    return fields;
}

ArcSealer::ArcSealer(ArcSealOptions options, SigningKey key, std::int64_t now)
    : key_(key), now_(now), signer_(signing_options(options), {std::move(key)}, now) {}

void ArcSealer::header(std::string_view field) {
    if (headers_done_) return;
    fields_.emplace_back(field);
    signer_.header(field);
}

void ArcSealer::end_headers() {
    if (headers_done_) return;
    headers_done_ = true;
    ArcChain chain = parse_arc_chain(fields_);
    has_arc_fields_ = !chain.empty();
    highest_instance_ = chain.highest_instance;
    newest_seal_failed_ = chain.newest_seal_failed;
    chain_sound_ = !chain.empty() && chain.problem.empty();
    for (const ArcSet& set : chain.sets)
        for (std::size_t f : {set.results_field, set.signature_field, set.seal_field})
            chain_.push_back(std::move(fields_[f]));
    fields_.clear();
    fields_.shrink_to_fit();
    signer_.set_arc_instance(instance());
    signer_.end_headers();
}

void ArcSealer::body(std::string_view chunk) {
    signer_.body(chunk);  // the body hash does not depend on the header fields
}

void ArcSealer::end_body() {
    end_headers();
    signer_.end_body();
}

std::string ArcSealer::results_field(std::string_view authserv_id, std::string_view results) const {
    FieldFolder f("ARC-Authentication-Results:");
    f.word("i=" + std::to_string(instance()) + ";");
    f.word(std::string(authserv_id) + ";");
    while (!results.empty() &&
           (is_wsp(results.front()) || results.front() == '\r' || results.front() == '\n'))
        results.remove_prefix(1);
    if (results.empty()) {
        f.word("none");
    } else if (results.find('\r') != std::string_view::npos) {
        return f.text(false) + "\r\n " + std::string(results) + "\r\n";  // folded as given
    } else {
        std::size_t start = 0;
        while (start < results.size()) {
            auto end = results.find_first_of(" \t", start);
            if (end == std::string_view::npos) end = results.size();
            if (end > start) f.word(results.substr(start, end - start));
            start = end + 1;
        }
    }
    return f.text();
}

std::string ArcSealer::seal_field_without_b(ChainStatus cv) const {
    FieldFolder f("ARC-Seal:");
    f.word("i=" + std::to_string(instance()) + ";");
    f.word("a=" + std::string(algorithm_name(algorithm_for(key_.key->type()))) + ";");
    f.word("t=" + std::to_string(now_) + ";");
    f.word("cv=" + std::string(chain_status_name(cv)) + ";");
    f.word("d=" + key_.domain + ";");
    f.word("s=" + key_.selector + ";");
    f.word("b=");
    return f.text(false);
}

Result<std::vector<std::string>> ArcSealer::seal(ChainStatus cv, std::string_view authserv_id,
                                                 std::string_view results) {
    end_body();
    if (newest_seal_failed_)
        return fail(ErrorCode::kInvalid,
                    "the newest ARC-Seal already says cv=fail: nothing to add (RFC 8617 5.1)");
    if (instance() > kMaxArcInstance)
        return fail(ErrorCode::kInvalid, "the chain already has 50 ARC sets");
    if (cv == ChainStatus::kPass && !chain_sound_)
        return fail(ErrorCode::kInvalid, "cv=pass, but the message has no sound ARC chain");
    if (cv == ChainStatus::kNone && has_arc_fields_)
        return fail(ErrorCode::kInvalid, "cv=none, but the message has ARC fields");
    if (!is_authserv_id(authserv_id))
        return fail(ErrorCode::kInvalid, "not an authserv-id: " + std::string(authserv_id));
    if (!is_field_text(results))
        return fail(ErrorCode::kInvalid, "the results hold a line break or a control character");

    std::string aar = results_field(authserv_id, results);
    auto signatures = signer_.signatures();
    if (!signatures) return std::unexpected(signatures.error());
    std::string ams = std::move(signatures->front());

    // Section 5.1.1: every set in order, the new one last; 5.1.2: only the new one on fail.
    HeaderHasher hasher(Canon::kRelaxed);
    if (cv != ChainStatus::kFail)
        for (const std::string& field : chain_)
            hasher.add_field(field);
    hasher.add_field(aar);
    hasher.add_field(ams);
    std::string seal = seal_field_without_b(cv);
    hasher.add_signature_field(seal);
    auto signature = key_.key->sign(hasher.finish());
    if (!signature) return std::unexpected(signature.error());
    FieldFolder folded(seal);
    folded.spread(base64_encode(*signature));
    return std::vector<std::string>{folded.text(), std::move(ams), std::move(aar)};
}

}  // namespace tern::mailauth
