// DkimVerifier: the signatures are parsed and their header hashes taken when the header ends
// (the fields are then let go), body hashes are taken as the body streams by, and each
// signature is judged when the body has ended and its key is known.
#include "mailauth/dkim_verifier.h"

#include "base/text.h"
#include "mailauth/header_hash.h"

namespace tern::mailauth {

DkimVerifier::DkimVerifier(DkimVerifyOptions options, std::int64_t now)
    : options_(std::move(options)), now_(now) {}

void DkimVerifier::header(std::string_view field) {
    if (headers_done_ || header_too_large_) return;
    header_bytes_ += field.size();
    if (header_bytes_ > options_.max_header_bytes) {
        header_too_large_ = true;
        return;
    }
    fields_.emplace_back(field);
}

void DkimVerifier::end_headers() {
    if (headers_done_) return;
    headers_done_ = true;
    std::size_t checked = 0;
    for (std::size_t i = 0; i < fields_.size(); ++i) {
        if (!ascii_iequals(field_name(fields_[i]), "DKIM-Signature")) continue;
        results_.emplace_back();
        DkimResult& result = results_.back();
        result.result = AuthResult::kNeutral;
        if (header_too_large_) {
            result.reason = "not checked: the header is over " +
                            std::to_string(options_.max_header_bytes) + " octets";
        } else if (checked++ >= options_.max_signatures) {
            result.reason = "not checked: over the limit of " +
                            std::to_string(options_.max_signatures) + " signatures per message";
        } else {
            start_check(i, results_.size() - 1);
        }
    }
    fields_.clear();
    fields_.shrink_to_fit();
}

void DkimVerifier::start_check(std::size_t field, std::size_t index) {
    std::string_view raw = fields_[field];
    ParsedSignature parsed = parse_dkim_signature(field_value(raw));
    DkimSignature& sig = parsed.signature;
    DkimResult& result = results_[index];
    result.domain = sig.domain;
    result.selector = sig.selector;
    result.identity = sig.identity;
    result.algorithm = sig.algorithm_text;
    result.signature_text = sig.signature_text;
    if (parsed.problem) {
        result.result = parsed.problem->result;
        result.reason = std::move(parsed.problem->reason);
        return;
    }
    // RFC 6376 section 6.1.1 lets expired signatures be ignored: no key is fetched for them.
    if (auto problem = check_signature_times(sig, now_, options_.clock_skew)) {
        result.result = problem->result;
        result.reason = std::move(problem->reason);
        return;
    }
    Check check;
    check.result = index;
    check.header_digest = header_digest(fields_, sig.signed_fields, sig.header_canon,
                                        without_signature_value(raw), field);
    check.body_handle = body_.request(sig.body_canon, sig.body_length);
    check.key = keys_.want(sig.key_name());
    check.signature = std::move(sig);
    checks_.push_back(std::move(check));
}

void DkimVerifier::body(std::string_view chunk) {
    end_headers();
    if (!body_done_) body_.feed(chunk);
}

void DkimVerifier::end_body() {
    end_headers();
    if (body_done_) return;
    body_.finish();
    body_done_ = true;
}

std::optional<dns::Query> DkimVerifier::next_query() {
    if (!headers_done_) return std::nullopt;
    for (std::size_t k = 0; k < keys_.size(); ++k)
        if (auto query = keys_.ask(k)) return query;
    return std::nullopt;
}

void DkimVerifier::feed(const dns::Answer& answer) {
    keys_.feed(answer);
}

const std::vector<DkimResult>& DkimVerifier::results() {
    if (body_done_ && !judged_) {
        judged_ = true;
        for (const Check& check : checks_)
            judge(check);
    }
    return results_;
}

void DkimVerifier::judge(const Check& check) {
    const DkimSignature& sig = check.signature;
    DkimResult& result = results_[check.result];
    auto decide = [&result](AuthResult r, std::string reason) {
        result.result = r;
        result.reason = std::move(reason);
    };
    if (!keys_.answered(check.key))
        return decide(AuthResult::kTempError, "the key was not looked up");
    const FetchedKey& key = keys_.fetched(check.key);
    if (key.record) result.testing = key.record->testing;
    if (key.key) result.key_bits = key.key->bits();
    std::uint64_t length = body_.canonical_length(check.body_handle);
    BodyDigest body{body_.digest(check.body_handle), length};
    auto problem = check_signature(key, sig, check.header_digest, &body, options_.key_limits);
    if (problem) return decide(problem->result, std::move(problem->reason));
    if (sig.body_length && *sig.body_length < length) {
        result.unsigned_octets = length - *sig.body_length;
        std::string note =
            "l= leaves " + std::to_string(result.unsigned_octets) + " body octets unsigned";
        if (!options_.accept_body_length) return decide(AuthResult::kPolicy, std::move(note));
        return decide(AuthResult::kPass, std::move(note));
    }
    decide(AuthResult::kPass, "");
}

}  // namespace tern::mailauth
