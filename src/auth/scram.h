// ScramSha256: the server side of SASL SCRAM-SHA-256 (RFC 7677 on RFC 5802) without channel
// binding. Input is untrusted client data, already base64-decoded.
#pragma once

#include "auth/mechanism.h"

namespace tern::auth {

// The exchange:
//   client-first  "n,,n=user,r=cnonce"          -> NeedVerify{kScramKeys}
//   resume(keys)                                 -> Challenge "r=cnonce+snonce,s=salt,i=4096"
//   client-final  "c=biws,r=cnonce+snonce,p=..." -> Challenge "v=ServerSignature"
//   empty response                               -> Success
// SMTP has no "additional data with success" (RFC 4954 section 4), so the server-final message
// is a challenge that the client answers with an empty response. GS2 flags "n" and "y" are
// accepted; "p=" (channel binding) fails, as the -PLUS variant is not offered. An authzid must
// be empty or the authentication identity itself. An unknown account gets a made-up salt and
// fails only at the proof, so the exchange does not tell which accounts exist.
class ScramSha256 final : public Mechanism {
  public:
    static constexpr std::string_view kName = "SCRAM-SHA-256";

    explicit ScramSha256(MechanismOptions options) : options_(std::move(options)) {}

    std::string_view name() const override { return kName; }
    Step start(std::optional<std::string_view> initial) override;
    Step step(std::string_view response) override;
    Step resume(const VerifyAnswer& answer) override;

  private:
    enum class State {
        kStart,        // start() not called yet
        kClientFirst,  // sent an empty challenge, waiting for client-first
        kLookup,       // asked for the account's keys
        kClientFinal,  // sent server-first, waiting for client-final
        kFinalAck,     // sent server-final, waiting for the empty response
        kDone,         // succeeded or failed; no further calls
    };
    Step client_first(std::string_view message);
    Step client_final(std::string_view message);
    Result<ScramKeys> unknown_user_keys() const;
    Step end_with(Failure failure);  // the exchange is over

    MechanismOptions options_;
    State state_ = State::kStart;
    std::string gs2_header_;         // "n,," or "y,,a=..," : what the c= attribute must carry
    std::string client_first_bare_;  // client-first without the GS2 header, for AuthMessage
    std::string nonce_;              // the client's nonce, then with the server's appended
    std::string server_first_;
    ScramKeys keys_;
    bool unknown_user_ = false;  // keys_ are made up; the proof must fail
};

}  // namespace tern::auth
