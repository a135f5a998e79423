// Login: the server side of SASL LOGIN (draft-murchison-sasl-login): "Username:" and
// "Password:" challenges, each answered with the bare value. Input is untrusted client data.
#pragma once

#include "auth/mechanism.h"

namespace tern::auth {

class Login final : public Mechanism {
  public:
    static constexpr std::string_view kName = "LOGIN";

    std::string_view name() const override { return kName; }
    // An initial response, which some clients send, is taken as the user name.
    Step start(std::optional<std::string_view> initial) override;
    Step step(std::string_view response) override;
    Step resume(const VerifyAnswer& answer) override;

  private:
    enum class State {
        kStart,      // start() not called yet
        kUsername,   // sent "Username:"
        kPassword,   // sent "Password:"
        kVerifying,  // asked for the password check
        kDone,       // succeeded or failed; no further calls
    };
    Step take_username(std::string_view username);

    State state_ = State::kStart;
};

}  // namespace tern::auth
