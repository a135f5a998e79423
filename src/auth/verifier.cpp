// Verifier::answer: maps the account store's results onto a mechanism's VerifyAnswer. Any store
// failure is temporary (454 4.7.0): the client may try again, and is told nothing more.
#include "auth/verifier.h"

#include <openssl/crypto.h>

namespace tern::auth {

VerifyAnswer Verifier::answer(Result<AccountStore*> store, const NeedVerify& need) {
    using Status = VerifyAnswer::Status;
    if (!store) return VerifyAnswer{Status::kTemporary, std::nullopt};
    if (need.what == NeedVerify::What::kPassword) {
        auto ok = (*store)->verify_password(need.user, need.password);
        if (!ok) return VerifyAnswer{Status::kTemporary, std::nullopt};
        return VerifyAnswer{*ok ? Status::kOk : Status::kRejected, std::nullopt};
    }
    auto keys = (*store)->scram_keys(need.user);
    if (!keys) return VerifyAnswer{Status::kTemporary, std::nullopt};
    if (!*keys) return VerifyAnswer{Status::kRejected, std::nullopt};
    return VerifyAnswer{Status::kOk, std::move(*keys)};
}

void Verifier::wipe(std::string& secret) {
    OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

}  // namespace tern::auth
