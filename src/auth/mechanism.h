// Mechanism: the server side of one SASL exchange (RFC 4422) as a sans-I/O state machine.
// The session driver decodes base64, feeds the decoded client data in and performs each Step.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auth/scram_keys.h"
#include "smtp/replies.h"

namespace tern::auth {

// Why an exchange failed, which decides the reply (failure_reply below).
enum class FailureKind {
    kBadCredentials,  // 535 5.7.8: unknown account, wrong password, authzid not allowed
    kMalformed,       // 501 5.5.2: the decoded client data breaks the mechanism's grammar
    kTemporary,       // 454 4.7.0: the account store could not answer
};

// Send `data` to the client as a challenge (334, base64 by the driver) and feed the response
// to step().
struct Challenge {
    std::string data;
};

// Ask the account store (auth::Verifier, off the event loop) and feed its answer to resume().
struct NeedVerify {
    enum class What {
        kPassword,   // does `password` match the account's argon2id hash?
        kScramKeys,  // the account's SCRAM-SHA-256 keys
    };
    What what = What::kPassword;
    std::string user;      // normalised identity (identity.h)
    std::string password;  // for kPassword only
};

// Authenticated as `user` (normalised): reply 235 2.7.0.
struct Success {
    std::string user;
};

// Failed: reply with failure_reply(kind). `why` is for the log, never for the client.
struct Failure {
    FailureKind kind = FailureKind::kBadCredentials;
    std::string why;
};

using Step = std::variant<Challenge, NeedVerify, Success, Failure>;

// What the account store answered to a NeedVerify.
struct VerifyAnswer {
    enum class Status {
        kOk,         // password matches / keys found
        kRejected,   // wrong password or no such account
        kTemporary,  // the store failed; try again later
    };
    Status status = Status::kTemporary;
    std::optional<ScramKeys> keys;  // for kScramKeys with kOk
};

struct MechanismOptions {
    // SCRAM: makes the server's part of the nonce; empty = 18 random octets in base64. Tests
    // inject a fixed one.
    std::function<std::string()> server_nonce;
    // SCRAM: key for the made-up salt shown for unknown accounts, so that asking twice about
    // the same unknown name gives the same salt. Keep one per process (the daemon makes it at
    // start); empty = a random key per exchange, which lets a client tell unknown names apart.
    std::string unknown_user_key;
    // SCRAM: iteration count shown for unknown accounts; make it the configured one.
    std::uint32_t unknown_user_iterations = kMinScramIterations;
};

class Mechanism {
  public:
    virtual ~Mechanism() = default;

    // The registered name, e.g. "PLAIN".
    virtual std::string_view name() const = 0;

    // Begins the exchange. `initial` is the decoded initial response of AUTH, nullopt when AUTH
    // had none (an empty one, "=" on the wire, is an empty string).
    virtual Step start(std::optional<std::string_view> initial) = 0;

    // The decoded response to the last Challenge.
    virtual Step step(std::string_view response) = 0;

    // The store's answer to the last NeedVerify.
    virtual Step resume(const VerifyAnswer& answer) = 0;

    // The normalised identity the client has claimed so far, for throttling and logs; empty
    // until one was parsed.
    const std::string& claimed_user() const { return user_; }

  protected:
    // Sets user_ from the authentication identity; a Failure when it is not acceptable.
    std::optional<Failure> claim(std::string_view authcid);
    // An authorization identity must be empty or name user_ itself (no proxy logins).
    std::optional<Failure> authorize(std::string_view authzid) const;
    // NeedVerify for `password`, or a Failure when no account can have such a password.
    Step ask_password_check(std::string password) const;
    // Success, or the Failure a rejected or unanswered password check gives.
    Step password_verdict(const VerifyAnswer& answer) const;
    // A call that does not fit the exchange's state (a driver bug or a confused client).
    static Step out_of_sequence();

    std::string user_;
};

// A new exchange of mechanism `name` (any case), or nullptr when Tern has no such mechanism.
std::unique_ptr<Mechanism> make_mechanism(std::string_view name,
                                          const MechanismOptions& options = {});

// The mechanisms make_mechanism knows, strongest first, as EHLO advertises them.
const std::vector<std::string>& mechanism_names();

// The reply a failure gives (RFC 4954 section 6): 535 5.7.8, 501 5.5.2 or 454 4.7.0.
smtp::Reply failure_reply(FailureKind kind);

}  // namespace tern::auth
