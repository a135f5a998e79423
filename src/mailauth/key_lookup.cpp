// Interpreting the key record answer and matching a key to a signature.
#include "mailauth/key_lookup.h"

#include "base/text.h"
#include "dns/records.h"

namespace tern::mailauth {
namespace {

SignatureProblem problem(AuthResult result, std::string reason) {
    return SignatureProblem{result, std::move(reason)};
}

}  // namespace

FetchedKey key_from_answer(const dns::Answer& answer, std::string_view name) {
    FetchedKey fetched;
    using Status = dns::Answer::Status;
    if (answer.status == Status::kTempFail) {
        fetched.problem = problem(AuthResult::kTempError,
                                  "key lookup for " + std::string(name) + " failed: " + answer.why);
        return fetched;
    }
    std::string first_error;
    for (const std::string& rdata : answer.rdata) {
        auto text = dns::parse_txt(rdata);
        if (!text) continue;
        auto record = parse_key_record(*text);
        if (!record) {
            if (first_error.empty()) first_error = record.error();
            continue;
        }
        fetched.record = std::move(*record);
        break;
    }
    if (!fetched.record) {
        fetched.problem = problem(
            AuthResult::kPermError,
            first_error.empty() ? "no key record at " + std::string(name)
                                : "bad key record at " + std::string(name) + ": " + first_error);
        return fetched;
    }
    if (fetched.record->revoked()) return fetched;  // check_key says "revoked"
    auto key = PublicKey::from_record(fetched.record->type, fetched.record->key);
    if (!key) {
        fetched.problem = problem(AuthResult::kPermError, "bad key record at " + std::string(name) +
                                                              ": " + key.error().message);
        return fetched;
    }
    fetched.key = std::move(*key);
    return fetched;
}

std::optional<SignatureProblem> check_key(const FetchedKey& key, Algorithm algorithm,
                                          std::string_view domain, std::string_view identity,
                                          const KeyLimits& limits) {
    if (key.problem) return key.problem;
    const KeyRecord& record = *key.record;
    if (record.revoked()) return problem(AuthResult::kFail, "key revoked");
    if (record.type != key_type_of(algorithm))
        return problem(AuthResult::kPermError,
                       "the key is k=" + std::string(key_type_name(record.type)) + ", not for " +
                           std::string(algorithm_name(algorithm)));
    if (!record.allows_sha256())
        return problem(AuthResult::kPermError, "the key's h= does not allow sha256");
    if (!record.allows_email())
        return problem(AuthResult::kPermError, "the key's s= is not for email");
    if (record.strict_identity && !identity.empty()) {
        auto at = identity.rfind('@');
        if (!ascii_iequals(identity.substr(at + 1), domain))
            return problem(AuthResult::kPermError, "the key's t=s wants i= in d= itself");
    }
    int bits = key.key->bits();
    if (record.type == KeyType::kRsa && bits < limits.min_rsa_bits)
        return problem(AuthResult::kFail, "key too small: " + std::to_string(bits) +
                                              "-bit RSA, under " +
                                              std::to_string(limits.min_rsa_bits) + " (RFC 8301)");
    if (record.type == KeyType::kRsa && bits > limits.max_rsa_bits)
        return problem(AuthResult::kFail, "key too large: " + std::to_string(bits) +
                                              "-bit RSA, over " +
                                              std::to_string(limits.max_rsa_bits));
    return std::nullopt;
}

std::optional<SignatureProblem> check_signature(const FetchedKey& key, const DkimSignature& sig,
                                                std::string_view header_digest,
                                                const BodyDigest* body, const KeyLimits& limits) {
    if (auto bad = check_key(key, sig.algorithm, sig.domain, sig.identity, limits)) return bad;
    if (body != nullptr) {
        if (sig.body_length && *sig.body_length > body->canonical_length)
            return problem(AuthResult::kFail,
                           "l=" + std::to_string(*sig.body_length) + " is longer than the body (" +
                               std::to_string(body->canonical_length) + " canonical octets)");
        if (body->digest != sig.body_hash) return problem(AuthResult::kFail, "body hash mismatch");
    }
    if (!key.key->verify(header_digest, sig.signature))
        return problem(AuthResult::kFail, "signature mismatch");
    return std::nullopt;
}

std::size_t KeyRequests::want(std::string name) {
    for (std::size_t k = 0; k < keys_.size(); ++k)
        if (keys_[k].name == name) return k;
    keys_.push_back(Key{std::move(name), false, false, {}});
    return keys_.size() - 1;
}

std::optional<dns::Query> KeyRequests::ask(std::size_t index) {
    Key& key = keys_[index];
    if (key.asked) return std::nullopt;
    key.asked = true;
    asking_ = index;
    return dns::Query{key.name, dns::RecordType::kTxt};
}

void KeyRequests::feed(const dns::Answer& answer) {
    if (!asking_) return;
    Key& key = keys_[*asking_];
    asking_.reset();
    key.fetched = key_from_answer(answer, key.name);
    key.answered = true;
}

}  // namespace tern::mailauth
