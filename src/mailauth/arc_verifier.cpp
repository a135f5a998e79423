// ArcVerifier: the chain's structure is checked and every header hash taken when the header
// ends (the fields are then let go); the seals are judged as their keys arrive, newest first,
// and the message signatures once the body has ended.
#include "mailauth/arc_verifier.h"

#include "base/text.h"
#include "mailauth/header_hash.h"

namespace tern::mailauth {

std::string_view chain_status_name(ChainStatus status) {
    switch (status) {
        case ChainStatus::kPass:
            return "pass";
        case ChainStatus::kFail:
            return "fail";
        case ChainStatus::kNone:
            break;
    }
    return "none";
}

ChainStatus ArcResult::chain_status() const {
    if (result == AuthResult::kNone) return ChainStatus::kNone;
    return result == AuthResult::kPass ? ChainStatus::kPass : ChainStatus::kFail;
}

ArcVerifier::ArcVerifier(ArcVerifyOptions options, std::int64_t now)
    : options_(std::move(options)), now_(now) {}

void ArcVerifier::header(std::string_view field) {
    if (headers_done_) return;
    if (arc_field_kind(field_name(field))) arc_seen_ = true;
    if (header_too_large_) return;
    header_bytes_ += field.size();
    if (header_bytes_ > options_.max_header_bytes) {
        header_too_large_ = true;  // what follows is not kept: no signature can be checked
        return;
    }
    fields_.emplace_back(field);
}

void ArcVerifier::fail(std::string reason, bool temporary) {
    result_.result = AuthResult::kFail;
    result_.reason = std::move(reason);
    result_.temporary = temporary;
    decided_ = true;
}

void ArcVerifier::end_headers() {
    if (headers_done_) return;
    headers_done_ = true;
    ArcChain chain = parse_arc_chain(fields_, options_.max_instances);
    if (header_too_large_ && arc_seen_) {
        fail("not checked: the header is over " + std::to_string(options_.max_header_bytes) +
             " octets");
    } else if (chain.empty()) {
        decided_ = true;  // no chain: cv=none
    } else if (!chain.problem.empty()) {
        result_.instances = chain.highest_instance;
        fail(std::move(chain.problem));
    } else {
        start(std::move(chain));
    }
    fields_.clear();
    fields_.shrink_to_fit();
}

void ArcVerifier::start(ArcChain chain) {
    unsigned n = chain.highest_instance;
    result_.instances = n;
    for (const ArcSet& set : chain.sets) {
        ArcSetResult r;
        r.instance = set.instance;
        r.seal_domain = set.seal.signature.domain;
        r.seal_selector = set.seal.signature.selector;
        r.signature_domain = set.message_signature.signature.domain;
        r.signature_selector = set.message_signature.signature.selector;
        r.results = set.results;
        result_.sets.push_back(std::move(r));
    }
    // Section 5.1.1: seal i=k signs the sets 1..k in order, AAR, AMS, AS, relaxed, its own AS
    // without b=; sets 1..k-1 are a prefix common to every later seal, hashed once.
    std::vector<std::string> seal_digests(n);
    HeaderHasher prefix(Canon::kRelaxed);
    for (const ArcSet& set : chain.sets) {
        prefix.add_field(fields_[set.results_field]);
        prefix.add_field(fields_[set.signature_field]);
        HeaderHasher own = prefix;
        own.add_signature_field(without_signature_value(fields_[set.seal_field]));
        seal_digests[set.instance - 1] = own.finish();
        prefix.add_field(fields_[set.seal_field]);
    }
    for (unsigned k = n; k >= 1; --k)
        add_check(k - 1, true, std::move(chain.sets[k - 1].seal), std::move(seal_digests[k - 1]));
    unsigned oldest_checked = options_.find_oldest_pass ? 1 : n;
    for (unsigned k = n; k >= oldest_checked; --k) {
        ArcSet& set = chain.sets[k - 1];
        const std::string& raw = fields_[set.signature_field];
        const DkimSignature& sig = set.message_signature.signature;
        std::string digest;
        if (!set.message_signature.problem)
            digest = header_digest(fields_, sig.signed_fields, sig.header_canon,
                                   without_signature_value(raw), set.signature_field);
        add_check(k - 1, false, std::move(set.message_signature), std::move(digest));
    }
}

void ArcVerifier::add_check(std::size_t set, bool seal, ParsedSignature parsed,
                            std::string digest) {
    Check check;
    check.set = set;
    check.seal = seal;
    check.syntax = std::move(parsed.problem);
    if (!check.syntax)
        check.syntax = check_signature_times(parsed.signature, now_, options_.clock_skew);
    check.signature = std::move(parsed.signature);
    check.header_digest = std::move(digest);
    if (!check.syntax) {
        if (!seal)
            check.body_handle =
                body_.request(check.signature.body_canon, check.signature.body_length);
        check.key = keys_.want(check.signature.key_name());
    }
    checks_.push_back(std::move(check));
}

void ArcVerifier::body(std::string_view chunk) {
    end_headers();
    if (!body_done_) body_.feed(chunk);
}

void ArcVerifier::end_body() {
    end_headers();
    if (body_done_) return;
    body_.finish();
    body_done_ = true;
}

std::optional<dns::Query> ArcVerifier::next_query() {
    if (!headers_done_ || decided_) return std::nullopt;
    judge_seals();
    for (const Check& check : checks_) {
        if (check.syntax || (seal_failed_ && check.seal)) continue;
        if (seal_failed_) break;  // the chain fails: the AMS keys are not needed
        if (auto query = keys_.ask(check.key)) return query;
    }
    return std::nullopt;
}

void ArcVerifier::feed(const dns::Answer& answer) {
    keys_.feed(answer);
    judge_seals();
}

void ArcVerifier::judge(Check& check) {
    if (check.judged) return;
    check.judged = true;
    if (check.syntax) {
        check.outcome = std::move(check.syntax);
    } else if (!keys_.answered(check.key)) {
        check.outcome = SignatureProblem{AuthResult::kTempError, "the key was not looked up"};
    } else if (check.seal) {
        check.outcome = check_signature(keys_.fetched(check.key), check.signature,
                                        check.header_digest, nullptr, options_.key_limits);
    } else {
        std::uint64_t length = body_.canonical_length(check.body_handle);
        BodyDigest body{body_.digest(check.body_handle), length};
        check.outcome = check_signature(keys_.fetched(check.key), check.signature,
                                        check.header_digest, &body, options_.key_limits);
        const auto& l = check.signature.body_length;
        if (!check.outcome && l && *l < length)
            check.outcome = SignatureProblem{
                AuthResult::kFail, "l= leaves " + std::to_string(length - *l) +
                                       " body octets unsigned, which ARC does not accept"};
    }
    // ARC knows no neutral: a signature that cannot be read fails.
    if (check.outcome && check.outcome->result == AuthResult::kNeutral)
        check.outcome->result = AuthResult::kFail;
}

void ArcVerifier::judge_seals() {
    for (Check& check : checks_) {
        if (!check.seal || seal_failed_) return;
        if (!check.judged && !check.syntax && !keys_.answered(check.key)) return;
        judge(check);
        if (check.outcome) seal_failed_ = true;
    }
}

const ArcResult& ArcVerifier::result() {
    if (body_done_ && !decided_) decide();
    return result_;
}

void ArcVerifier::decide() {
    decided_ = true;
    for (Check& check : checks_) {
        if (check.seal && !seal_failed_) {
            judge(check);
            if (check.outcome) seal_failed_ = true;
        } else if (!check.seal && (!seal_failed_ || check.syntax || keys_.answered(check.key))) {
            judge(check);
        }
        if (!check.judged) continue;
        ArcSetResult& set = result_.sets[check.set];
        AuthResult r = check.outcome ? check.outcome->result : AuthResult::kPass;
        (check.seal ? set.seal : set.signature) = r;
        if (check.outcome)
            set.reason += (set.reason.empty() ? "" : "; ") +
                          std::string(check.seal ? "ARC-Seal: " : "ARC-Message-Signature: ") +
                          check.outcome->reason;
    }
    unsigned n = result_.instances;
    // Section 5.2 step 4: the newest AMS, then step 6: every seal, newest first.
    const Check* newest_signature = nullptr;
    for (const Check& check : checks_)
        if (!check.seal && newest_signature == nullptr) newest_signature = &check;
    if (newest_signature->judged && newest_signature->outcome) {
        const SignatureProblem& p = *newest_signature->outcome;
        return fail(
            "the newest ARC-Message-Signature (i=" + std::to_string(n) + ") fails: " + p.reason,
            p.result == AuthResult::kTempError);
    }
    for (const Check& check : checks_) {
        if (!check.seal || !check.outcome) continue;
        const SignatureProblem& p = *check.outcome;
        return fail("the ARC-Seal i=" + std::to_string(check.set + 1) + " fails: " + p.reason,
                    p.result == AuthResult::kTempError);
    }
    result_.result = AuthResult::kPass;
    if (!options_.find_oldest_pass) return;
    // Section 5.2 step 5: the lowest instance from which every AMS up to N verifies.
    for (const Check& check : checks_) {
        if (check.seal) continue;
        if (check.outcome) break;
        result_.oldest_pass = static_cast<unsigned>(check.set + 1);
    }
}

}  // namespace tern::mailauth
