// The mechanism registry (names and make_mechanism), the failure-to-reply mapping of RFC 4954,
// and the verdict shared by the password mechanisms.
#include "auth/mechanism.h"

#include "auth/identity.h"
#include "auth/login.h"
#include "auth/plain.h"
#include "auth/scram.h"
#include "base/text.h"

namespace tern::auth {

std::optional<Failure> Mechanism::claim(std::string_view authcid) {
    auto user = normalize_identity(authcid);
    if (!user)
        return Failure{FailureKind::kMalformed,
                       "identity empty, too long, not UTF-8 or with control characters"};
    user_ = std::move(*user);
    return std::nullopt;
}

std::optional<Failure> Mechanism::authorize(std::string_view authzid) const {
    if (authzid.empty()) return std::nullopt;
    auto as = normalize_identity(authzid);
    if (!as) return Failure{FailureKind::kMalformed, "authorization identity not acceptable"};
    if (*as != user_)
        return Failure{FailureKind::kBadCredentials,
                       user_ + " may not act as " + *as + " (authzid must be empty or the same)"};
    return std::nullopt;
}

Step Mechanism::ask_password_check(std::string password) const {
    if (password.empty()) return Failure{FailureKind::kMalformed, "empty password"};
    // auth::check_password (identity.h) refuses such passwords, so no account has one.
    if (password.size() > kMaxPassword || !prep_acceptable(password))
        return Failure{FailureKind::kBadCredentials, "password no account can have"};
    return NeedVerify{NeedVerify::What::kPassword, user_, std::move(password)};
}

Step Mechanism::out_of_sequence() {
    return Failure{FailureKind::kMalformed, "message out of sequence"};
}

Step Mechanism::password_verdict(const VerifyAnswer& answer) const {
    switch (answer.status) {
        case VerifyAnswer::Status::kOk:
            return Success{user_};
        case VerifyAnswer::Status::kRejected:
            return Failure{FailureKind::kBadCredentials, "wrong password or unknown account"};
        case VerifyAnswer::Status::kTemporary:
            break;
    }
    return Failure{FailureKind::kTemporary, "the account store did not answer"};
}

std::unique_ptr<Mechanism> make_mechanism(std::string_view name, const MechanismOptions& options) {
    std::string upper = ascii_upper(name);
    if (upper == ScramSha256::kName) return std::make_unique<ScramSha256>(options);
    if (upper == Plain::kName) return std::make_unique<Plain>();
    if (upper == Login::kName) return std::make_unique<Login>();
    return nullptr;
}

const std::vector<std::string>& mechanism_names() {
    static const std::vector<std::string> names = {
        std::string(ScramSha256::kName), std::string(Plain::kName), std::string(Login::kName)};
    return names;
}

smtp::Reply failure_reply(FailureKind kind) {
    switch (kind) {
        case FailureKind::kBadCredentials:
            return smtp::reply(smtp::ReplyName::kAuthFailed);
        case FailureKind::kMalformed:
            // The base64 decoded, but what it holds breaks the mechanism's grammar.
            return smtp::reply(smtp::ReplyName::kAuthBadEncoding, "Malformed authentication data");
        case FailureKind::kTemporary:
            return smtp::reply(smtp::ReplyName::kAuthTemporary);
    }
    return smtp::reply(smtp::ReplyName::kAuthFailed);
}

}  // namespace tern::auth
