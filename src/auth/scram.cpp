// SCRAM-SHA-256 server: parsing of client-first and client-final (RFC 5802 section 7 grammar),
// proof verification in constant time, and ServerSignature (section 3).
#include "auth/scram.h"

#include <vector>

#include "auth/crypto.h"

namespace tern::auth {
namespace {

constexpr std::size_t kServerNonceOctets = 18;  // 24 base64 characters
constexpr std::size_t kUnknownSaltOctets = 16;  // as new_scram_keys makes them

std::vector<std::string_view> split_attributes(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t begin = 0;
    while (true) {
        std::size_t comma = text.find(',', begin);
        out.push_back(text.substr(begin, comma - begin));
        if (comma == std::string_view::npos) return out;
        begin = comma + 1;
    }
}

// attr-val = ALPHA "=" value; reports the value of attribute `name`.
bool attribute(std::string_view attr, char name, std::string_view& value) {
    if (attr.size() < 2 || attr[0] != name || attr[1] != '=') return false;
    value = attr.substr(2);
    return true;
}

// Optional extensions after the known attributes: each must at least look like attr-val.
bool valid_extensions(const std::vector<std::string_view>& attrs, std::size_t from) {
    for (std::size_t i = from; i < attrs.size(); ++i) {
        auto a = attrs[i];
        if (a.size() < 2 || a[1] != '=' ||
            !((a[0] >= 'a' && a[0] <= 'z') || (a[0] >= 'A' && a[0] <= 'Z')))
            return false;
    }
    return true;
}

// saslname: "=2C" stands for ',' and "=3D" for '='; any other '=' is malformed.
std::optional<std::string> decode_saslname(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '=') {
            out += text[i];
            continue;
        }
        auto code = text.substr(i + 1, 2);
        if (code == "2C") {
            out += ',';
        } else if (code == "3D") {
            out += '=';
        } else {
            return std::nullopt;
        }
        i += 2;
    }
    return out;
}

// c-nonce = printable, %x21-7E except ','.
bool valid_nonce(std::string_view nonce) {
    if (nonce.empty()) return false;
    for (char c : nonce)
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    return true;
}

Failure malformed(std::string why) {
    return Failure{FailureKind::kMalformed, std::move(why)};
}

}  // namespace

Step ScramSha256::end_with(Failure failure) {
    state_ = State::kDone;
    return failure;
}

Step ScramSha256::start(std::optional<std::string_view> initial) {
    if (state_ != State::kStart) return out_of_sequence();
    if (!initial) {
        state_ = State::kClientFirst;
        return Challenge{};
    }
    return client_first(*initial);
}

Step ScramSha256::step(std::string_view response) {
    switch (state_) {
        case State::kClientFirst:
            return client_first(response);
        case State::kClientFinal:
            return client_final(response);
        case State::kFinalAck:
            if (!response.empty()) return end_with(malformed("non-empty reply to server-final"));
            state_ = State::kDone;
            return Success{user_};
        default:
            return out_of_sequence();
    }
}

Step ScramSha256::client_first(std::string_view message) {
    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    if (message.starts_with("p="))
        return end_with(
            malformed("channel binding requested, but SCRAM-SHA-256-PLUS is not offered"));
    if (message.size() < 2 || (message[0] != 'n' && message[0] != 'y') || message[1] != ',')
        return end_with(malformed("client-first without a GS2 header"));
    std::size_t header_end = message.find(',', 2);
    if (header_end == std::string_view::npos)
        return end_with(malformed("client-first without a GS2 header"));
    std::string_view authzid_attr = message.substr(2, header_end - 2);
    std::string_view authzid_raw;
    if (!authzid_attr.empty() && !attribute(authzid_attr, 'a', authzid_raw))
        return end_with(malformed("bad authzid in the GS2 header"));
    gs2_header_ = std::string(message.substr(0, header_end + 1));
    client_first_bare_ = std::string(message.substr(header_end + 1));

    auto attrs = split_attributes(client_first_bare_);
    std::string_view username_raw, nonce;
    if (std::string_view ignored; attribute(attrs[0], 'm', ignored))
        return end_with(malformed("mandatory extension (m=) not supported"));
    if (attrs.size() < 2 || !attribute(attrs[0], 'n', username_raw) ||
        !attribute(attrs[1], 'r', nonce) || !valid_nonce(nonce) || !valid_extensions(attrs, 2))
        return end_with(malformed("client-first-message-bare is not n=...,r=..."));
    auto username = decode_saslname(username_raw);
    auto authzid = decode_saslname(authzid_raw);
    if (!username || !authzid) return end_with(malformed("bad escape in a saslname"));
    if (auto failed = claim(*username)) return end_with(*failed);
    if (auto failed = authorize(*authzid)) return end_with(*failed);
    nonce_ = std::string(nonce);
    state_ = State::kLookup;
    return NeedVerify{NeedVerify::What::kScramKeys, user_, {}};
}

Result<ScramKeys> ScramSha256::unknown_user_keys() const {
    std::string key = options_.unknown_user_key;
    if (key.empty()) {
        auto random = random_bytes(kDigestSize);
        if (!random) return std::unexpected(random.error());
        key = std::move(*random);
    }
    ScramKeys keys;
    keys.salt = hmac_sha256(key, "salt:" + user_).substr(0, kUnknownSaltOctets);
    keys.iterations = options_.unknown_user_iterations;
    keys.stored_key = hmac_sha256(key, "stored:" + user_);
    keys.server_key = hmac_sha256(key, "server:" + user_);
    return keys;
}

Step ScramSha256::resume(const VerifyAnswer& answer) {
    if (state_ != State::kLookup) return out_of_sequence();
    if (answer.status == VerifyAnswer::Status::kTemporary)
        return end_with(Failure{FailureKind::kTemporary, "the account store did not answer"});
    if (answer.status == VerifyAnswer::Status::kOk && answer.keys) {
        keys_ = *answer.keys;
    } else {
        auto made_up = unknown_user_keys();
        if (!made_up) return end_with(Failure{FailureKind::kTemporary, made_up.error().message});
        keys_ = std::move(*made_up);
        unknown_user_ = true;
    }
    std::string server_nonce;
    if (options_.server_nonce) {
        server_nonce = options_.server_nonce();
    } else {
        auto random = random_bytes(kServerNonceOctets);
        if (!random) return end_with(Failure{FailureKind::kTemporary, random.error().message});
        server_nonce = base64_encode(*random);
    }
    nonce_ += server_nonce;
    server_first_ = "r=" + nonce_ + ",s=" + base64_encode(keys_.salt) +
                    ",i=" + std::to_string(keys_.iterations);
    state_ = State::kClientFinal;
    return Challenge{server_first_};
}

Step ScramSha256::client_final(std::string_view message) {
    // client-final-message = client-final-message-without-proof "," proof
    std::size_t proof_at = message.rfind(",p=");
    if (proof_at == std::string_view::npos)
        return end_with(malformed("client-final without a proof"));
    std::string_view without_proof = message.substr(0, proof_at);
    auto proof = base64_decode(message.substr(proof_at + 3));
    auto attrs = split_attributes(without_proof);
    std::string_view binding, nonce;
    if (attrs.size() < 2 || !attribute(attrs[0], 'c', binding) ||
        !attribute(attrs[1], 'r', nonce) || !valid_extensions(attrs, 2) || !proof ||
        proof->size() != kDigestSize)
        return end_with(malformed("client-final is not c=...,r=...,p=..."));
    // Without channel binding, c= carries exactly the GS2 header of client-first.
    auto header = base64_decode(binding);
    if (!header || *header != gs2_header_)
        return end_with(malformed("channel binding data differs from the GS2 header"));
    if (nonce != nonce_) return end_with(malformed("nonce differs from the server's"));

    std::string auth_message =
        client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
    std::string client_key = hmac_sha256(keys_.stored_key, auth_message);
    for (std::size_t i = 0; i < kDigestSize; ++i)
        client_key[i] = static_cast<char>(client_key[i] ^ (*proof)[i]);
    bool proof_ok = equal_constant_time(sha256(client_key), keys_.stored_key);
    if (!proof_ok || unknown_user_)
        return end_with(Failure{FailureKind::kBadCredentials,
                                unknown_user_ ? "unknown account" : "wrong proof (password)"});
    state_ = State::kFinalAck;
    return Challenge{"v=" + base64_encode(hmac_sha256(keys_.server_key, auth_message))};
}

}  // namespace tern::auth
