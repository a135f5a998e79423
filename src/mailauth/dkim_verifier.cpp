// DkimVerifier: the signatures are parsed and their header hashes taken when the header ends
// (the fields are then let go), body hashes are taken as the body streams by, and each
// signature is judged when the body has ended and its key is known.
#include "mailauth/dkim_verifier.h"

#include "base/text.h"
#include "mailauth/header_hash.h"

namespace tern::mailauth {
namespace {

std::string_view field_value(std::string_view raw_field) {
    std::string_view value = raw_field.substr(raw_field.find(':') + 1);
    if (value.ends_with("\r\n")) value.remove_suffix(2);
    return value;
}

}  // namespace

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
    if (sig.expiration && now_ > *sig.expiration + options_.clock_skew) {
        result.result = AuthResult::kFail;
        result.reason = "signature expired (x=" + std::to_string(*sig.expiration) + ")";
        return;
    }
    if (sig.timestamp && *sig.timestamp > now_ + options_.clock_skew) {
        result.result = AuthResult::kFail;
        result.reason = "signature made in the future (t=" + std::to_string(*sig.timestamp) + ")";
        return;
    }
    Check check;
    check.result = index;
    check.header_digest = header_digest(fields_, sig.signed_fields, sig.header_canon,
                                        without_signature_value(raw), field);
    check.body_handle = body_.request(sig.body_canon, sig.body_length);
    std::string name = sig.key_name();
    check.key = keys_.size();
    for (std::size_t k = 0; k < keys_.size(); ++k)
        if (keys_[k].name == name) check.key = k;
    if (check.key == keys_.size()) keys_.push_back(Key{std::move(name), false, false, {}});
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
    for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (keys_[k].asked) continue;
        keys_[k].asked = true;
        asking_ = k;
        return dns::Query{keys_[k].name, dns::RecordType::kTxt};
    }
    return std::nullopt;
}

void DkimVerifier::feed(const dns::Answer& answer) {
    if (!asking_) return;
    Key& key = keys_[*asking_];
    asking_.reset();
    key.fetched = key_from_answer(answer, key.name);
    key.answered = true;
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
    const Key& key = keys_[check.key];
    auto decide = [&result](AuthResult r, std::string reason) {
        result.result = r;
        result.reason = std::move(reason);
    };
    if (!key.answered) return decide(AuthResult::kTempError, "the key was not looked up");
    if (key.fetched.record) result.testing = key.fetched.record->testing;
    if (key.fetched.key) result.key_bits = key.fetched.key->bits();
    auto problem =
        check_key(key.fetched, sig.algorithm, sig.domain, sig.identity, options_.key_limits);
    if (problem) return decide(problem->result, std::move(problem->reason));

    std::uint64_t length = body_.canonical_length(check.body_handle);
    if (sig.body_length && *sig.body_length > length)
        return decide(AuthResult::kFail, "l=" + std::to_string(*sig.body_length) +
                                             " is longer than the body (" + std::to_string(length) +
                                             " canonical octets)");
    if (body_.digest(check.body_handle) != sig.body_hash)
        return decide(AuthResult::kFail, "body hash mismatch");
    if (!key.fetched.key->verify(check.header_digest, sig.signature))
        return decide(AuthResult::kFail, "signature mismatch");
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
