// Test helpers for SASL exchanges: read a Step as the alternative the test expects, and the
// store answers a session driver would feed back.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "auth/mechanism.h"

namespace tern::auth::testing {

inline std::string describe(const Step& step) {
    if (auto* c = std::get_if<Challenge>(&step)) return "Challenge{" + c->data + "}";
    if (auto* n = std::get_if<NeedVerify>(&step)) return "NeedVerify{" + n->user + "}";
    if (auto* s = std::get_if<Success>(&step)) return "Success{" + s->user + "}";
    const auto& f = std::get<Failure>(step);
    return "Failure{" + std::to_string(static_cast<int>(f.kind)) + ", " + f.why + "}";
}

// The step as a T; a test failure (and a default T) when it is something else.
template <class T>
T as(const Step& step) {
    if (const T* t = std::get_if<T>(&step)) return *t;
    ADD_FAILURE() << "unexpected step " << describe(step);
    return T{};
}

// The failure kind of `step`, or a test failure when it did not fail.
inline FailureKind failure_kind(const Step& step) {
    return as<Failure>(step).kind;
}

inline VerifyAnswer answer(VerifyAnswer::Status status) {
    return VerifyAnswer{status, std::nullopt};
}

}  // namespace tern::auth::testing
