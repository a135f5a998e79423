// Unit tests of SASL LOGIN: the two challenges, the initial response as user name, failures and
// malformed user names.
#include "auth/login.h"

#include <gtest/gtest.h>

#include "steps.h"

namespace tern::auth {
namespace {

using namespace tern::auth::testing;
using Status = VerifyAnswer::Status;

TEST(Login, TwoChallengesThenSuccess) {
    Login login;
    EXPECT_EQ(as<Challenge>(login.start(std::nullopt)).data, "Username:");
    EXPECT_EQ(as<Challenge>(login.step("Alice@example.org")).data, "Password:");
    auto need = as<NeedVerify>(login.step("pencil"));
    EXPECT_EQ(need.user, "alice@example.org");
    EXPECT_EQ(need.password, "pencil");
    EXPECT_EQ(as<Success>(login.resume(answer(Status::kOk))).user, "alice@example.org");
}

TEST(Login, InitialResponseIsTheUserName) {
    Login login;
    EXPECT_EQ(as<Challenge>(login.start("alice@example.org")).data, "Password:");
    as<NeedVerify>(login.step("pencil"));
    EXPECT_EQ(as<Success>(login.resume(answer(Status::kOk))).user, "alice@example.org");
}

TEST(Login, Failures) {
    Login wrong;
    wrong.start(std::nullopt);
    wrong.step("alice@example.org");
    as<NeedVerify>(wrong.step("crayon"));
    EXPECT_EQ(failure_kind(wrong.resume(answer(Status::kRejected))), FailureKind::kBadCredentials);

    Login down;
    down.start("alice@example.org");
    as<NeedVerify>(down.step("pencil"));
    EXPECT_EQ(failure_kind(down.resume(answer(Status::kTemporary))), FailureKind::kTemporary);
}

TEST(Login, MalformedInput) {
    Login empty_initial;
    EXPECT_EQ(failure_kind(empty_initial.start("")), FailureKind::kMalformed);
    Login control;
    control.start(std::nullopt);
    EXPECT_EQ(failure_kind(control.step(std::string_view("al\0ice", 6))), FailureKind::kMalformed);
    Login empty_password;
    empty_password.start("alice@example.org");
    EXPECT_EQ(failure_kind(empty_password.step("")), FailureKind::kMalformed);
    EXPECT_EQ(failure_kind(empty_password.step("late")), FailureKind::kMalformed);
}

}  // namespace
}  // namespace tern::auth
