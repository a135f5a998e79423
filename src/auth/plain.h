// Plain: the server side of SASL PLAIN (RFC 4616), "[authzid] NUL authcid NUL passwd" in a
// single client message. Input is untrusted client data, already base64-decoded.
#pragma once

#include "auth/mechanism.h"

namespace tern::auth {

class Plain final : public Mechanism {
  public:
    static constexpr std::string_view kName = "PLAIN";

    std::string_view name() const override { return kName; }
    Step start(std::optional<std::string_view> initial) override;
    Step step(std::string_view response) override;
    Step resume(const VerifyAnswer& answer) override;

  private:
    enum class State {
        kStart,      // start() not called yet
        kMessage,    // sent an empty challenge, waiting for the message
        kVerifying,  // asked for the password check
        kDone,       // succeeded or failed; no further calls
    };
    Step parse(std::string_view message);

    State state_ = State::kStart;
};

}  // namespace tern::auth
