// SASL PLAIN: splits the message at its two NULs and checks the identities (RFC 4616 section 2);
// the password check itself is the account store's, reached through NeedVerify.
#include "auth/plain.h"

namespace tern::auth {

Step Plain::start(std::optional<std::string_view> initial) {
    if (state_ != State::kStart) return out_of_sequence();
    if (!initial) {
        // RFC 4422 section 5: without an initial response the server sends an empty challenge.
        state_ = State::kMessage;
        return Challenge{};
    }
    return parse(*initial);
}

Step Plain::step(std::string_view response) {
    if (state_ != State::kMessage) return out_of_sequence();
    return parse(response);
}

Step Plain::parse(std::string_view message) {
    state_ = State::kDone;
    auto first = message.find('\0');
    auto second = first == std::string_view::npos ? first : message.find('\0', first + 1);
    if (second == std::string_view::npos ||
        message.find('\0', second + 1) != std::string_view::npos)
        return Failure{FailureKind::kMalformed, "PLAIN message without exactly two NULs"};
    std::string_view authzid = message.substr(0, first);
    std::string_view authcid = message.substr(first + 1, second - first - 1);
    std::string_view password = message.substr(second + 1);
    if (auto failed = claim(authcid)) return *failed;
    if (auto failed = authorize(authzid)) return *failed;
    Step next = ask_password_check(std::string(password));
    if (std::holds_alternative<NeedVerify>(next)) state_ = State::kVerifying;
    return next;
}

Step Plain::resume(const VerifyAnswer& answer) {
    if (state_ != State::kVerifying) return out_of_sequence();
    state_ = State::kDone;
    return password_verdict(answer);
}

}  // namespace tern::auth
