// Unit tests of SASL PLAIN (RFC 4616): success with and without an initial response, wrong
// passwords, authzid rules, malformed messages and calls out of sequence.
#include "auth/plain.h"

#include <gtest/gtest.h>

#include "steps.h"

namespace tern::auth {
namespace {

using namespace tern::auth::testing;
using Status = VerifyAnswer::Status;

std::string message(std::string_view authzid, std::string_view authcid, std::string_view pass) {
    std::string m(authzid);
    m += '\0';
    m += authcid;
    m += '\0';
    m += pass;
    return m;
}

TEST(Plain, InitialResponseSucceeds) {
    auto plain = make_mechanism("plain");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->name(), "PLAIN");
    auto need = as<NeedVerify>(plain->start(message("", "Alice@Example.org", "pencil")));
    EXPECT_EQ(need.what, NeedVerify::What::kPassword);
    EXPECT_EQ(need.user, "alice@example.org");
    EXPECT_EQ(need.password, "pencil");
    EXPECT_EQ(plain->claimed_user(), "alice@example.org");
    EXPECT_EQ(as<Success>(plain->resume(answer(Status::kOk))).user, "alice@example.org");
}

TEST(Plain, WithoutInitialResponseTheServerSendsAnEmptyChallenge) {
    Plain plain;
    EXPECT_EQ(as<Challenge>(plain.start(std::nullopt)).data, "");
    auto need = as<NeedVerify>(plain.step(message("", "alice@example.org", "pencil")));
    EXPECT_EQ(need.password, "pencil");
    EXPECT_EQ(as<Success>(plain.resume(answer(Status::kOk))).user, "alice@example.org");
}

TEST(Plain, WrongPasswordAndStoreFailure) {
    Plain wrong;
    as<NeedVerify>(wrong.start(message("", "alice@example.org", "crayon")));
    EXPECT_EQ(failure_kind(wrong.resume(answer(Status::kRejected))), FailureKind::kBadCredentials);

    Plain down;
    as<NeedVerify>(down.start(message("", "alice@example.org", "pencil")));
    EXPECT_EQ(failure_kind(down.resume(answer(Status::kTemporary))), FailureKind::kTemporary);
}

TEST(Plain, AuthzidMustBeEmptyOrTheSameIdentity) {
    Plain same;
    auto need = as<NeedVerify>(same.start(message("ALICE@example.org", "alice@example.org", "p")));
    EXPECT_EQ(need.user, "alice@example.org");

    Plain other;
    EXPECT_EQ(failure_kind(other.start(message("bob@example.org", "alice@example.org", "p"))),
              FailureKind::kBadCredentials);
}

TEST(Plain, MalformedMessages) {
    for (std::string bad : {std::string(""), std::string("alice"), std::string("\0alice", 6),
                            message("", "", "pencil"), message("", "alice@example.org", ""),
                            message("", "alice@example.org", "pen") + std::string(1, '\0') + "x",
                            message("", "al\x01ice", "pencil"), message("", "\xff", "pencil"),
                            message("\x01", "alice@example.org", "pencil")}) {
        Plain plain;
        EXPECT_EQ(failure_kind(plain.start(bad)), FailureKind::kMalformed)
            << describe(plain.start(bad));
    }
}

TEST(Plain, PasswordNoAccountCanHaveFailsWithoutALookup) {
    Plain plain;
    EXPECT_EQ(failure_kind(plain.start(message("", "alice@example.org", "a\x7f"))),
              FailureKind::kBadCredentials);
    Plain long_one;
    EXPECT_EQ(failure_kind(long_one.start(message("", "a@b", std::string(2000, 'x')))),
              FailureKind::kBadCredentials);
}

TEST(Plain, CallsOutOfSequenceFail) {
    Plain plain;
    EXPECT_EQ(failure_kind(plain.step("x")), FailureKind::kMalformed);
    Plain twice;
    as<NeedVerify>(twice.start(message("", "alice@example.org", "pencil")));
    EXPECT_EQ(failure_kind(twice.step("again")), FailureKind::kMalformed);
    as<Success>(twice.resume(answer(Status::kOk)));
    EXPECT_EQ(failure_kind(twice.resume(answer(Status::kOk))), FailureKind::kMalformed);
}

TEST(Mechanisms, RegistryAndReplies) {
    EXPECT_EQ(mechanism_names(), (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN", "LOGIN"}));
    for (const auto& name : mechanism_names())
        EXPECT_EQ(make_mechanism(name)->name(), name);
    EXPECT_EQ(make_mechanism("CRAM-MD5"), nullptr);
    EXPECT_EQ(make_mechanism("SCRAM-SHA-256-PLUS"), nullptr);
    auto r = failure_reply(FailureKind::kBadCredentials);
    EXPECT_EQ(r.code, 535);
    EXPECT_EQ(r.status, "5.7.8");
    r = failure_reply(FailureKind::kMalformed);
    EXPECT_EQ(r.code, 501);
    EXPECT_EQ(r.status, "5.5.2");
    r = failure_reply(FailureKind::kTemporary);
    EXPECT_EQ(r.code, 454);
    EXPECT_EQ(r.status, "4.7.0");
}

}  // namespace
}  // namespace tern::auth
