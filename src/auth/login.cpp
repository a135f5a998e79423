// SASL LOGIN: two challenges with the texts the draft gives, then the password check through
// NeedVerify. The challenge texts are informational; clients answer in order.
#include "auth/login.h"

namespace tern::auth {

Step Login::start(std::optional<std::string_view> initial) {
    if (state_ != State::kStart) return out_of_sequence();
    if (!initial) {
        state_ = State::kUsername;
        return Challenge{"Username:"};
    }
    return take_username(*initial);
}

Step Login::step(std::string_view response) {
    if (state_ == State::kUsername) return take_username(response);
    if (state_ != State::kPassword) return out_of_sequence();
    state_ = State::kDone;
    Step next = ask_password_check(std::string(response));
    if (std::holds_alternative<NeedVerify>(next)) state_ = State::kVerifying;
    return next;
}

Step Login::take_username(std::string_view username) {
    if (auto failed = claim(username)) {
        state_ = State::kDone;
        return *failed;
    }
    state_ = State::kPassword;
    return Challenge{"Password:"};
}

Step Login::resume(const VerifyAnswer& answer) {
    if (state_ != State::kVerifying) return out_of_sequence();
    state_ = State::kDone;
    return password_verdict(answer);
}

}  // namespace tern::auth
