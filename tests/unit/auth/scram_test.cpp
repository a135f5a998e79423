// Unit tests of SCRAM-SHA-256: the RFC 7677 section 3 exchange byte for byte (with its nonce and
// salt injected), GS2 header rules, authzid rules, unknown accounts and malformed messages.
#include "auth/scram.h"

#include <gtest/gtest.h>

#include "auth/crypto.h"
#include "steps.h"

namespace tern::auth {
namespace {

using namespace tern::auth::testing;
using Status = VerifyAnswer::Status;

// RFC 7677 section 3.
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kSalt = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

MechanismOptions fixed_nonce() {
    MechanismOptions options;
    options.server_nonce = [] { return std::string(kServerNonce); };
    options.unknown_user_key = "process key";
    return options;
}

VerifyAnswer keys_for(std::string_view password) {
    return VerifyAnswer{Status::kOk, derive_scram_keys(password, *base64_decode(kSalt), 4096)};
}

// What a client sends as client-final for `password`, given the messages so far.
std::string client_final(std::string_view password, std::string_view client_first_bare,
                         std::string_view server_first, std::string_view without_proof) {
    auto attrs = std::string(server_first);
    auto salt_at = attrs.find(",s=") + 3;
    auto salt = *base64_decode(attrs.substr(salt_at, attrs.find(',', salt_at) - salt_at));
    auto iterations = std::stoul(attrs.substr(attrs.find(",i=") + 3));
    std::string salted = pbkdf2_sha256(password, salt, static_cast<std::uint32_t>(iterations));
    std::string client_key = hmac_sha256(salted, "Client Key");
    std::string auth_message = std::string(client_first_bare) + "," + std::string(server_first) +
                               "," + std::string(without_proof);
    std::string signature = hmac_sha256(sha256(client_key), auth_message);
    for (std::size_t i = 0; i < client_key.size(); ++i)
        client_key[i] = static_cast<char>(client_key[i] ^ signature[i]);
    return std::string(without_proof) + ",p=" + base64_encode(client_key);
}

TEST(Scram, Rfc7677Exchange) {
    ScramSha256 scram(fixed_nonce());
    auto need = as<NeedVerify>(scram.start(kClientFirst));
    EXPECT_EQ(need.what, NeedVerify::What::kScramKeys);
    EXPECT_EQ(need.user, "user");
    EXPECT_EQ(as<Challenge>(scram.resume(keys_for("pencil"))).data, kServerFirst);
    EXPECT_EQ(as<Challenge>(scram.step(kClientFinal)).data, kServerFinal);
    EXPECT_EQ(as<Success>(scram.step("")).user, "user");
}

TEST(Scram, WithoutInitialResponse) {
    auto scram = make_mechanism("scram-sha-256", fixed_nonce());
    EXPECT_EQ(as<Challenge>(scram->start(std::nullopt)).data, "");
    as<NeedVerify>(scram->step(kClientFirst));
    EXPECT_EQ(as<Challenge>(scram->resume(keys_for("pencil"))).data, kServerFirst);
    EXPECT_EQ(as<Challenge>(scram->step(kClientFinal)).data, kServerFinal);
    EXPECT_EQ(as<Success>(scram->step("")).user, "user");
}

TEST(Scram, WrongPasswordFailsAtTheProof) {
    ScramSha256 scram(fixed_nonce());
    scram.start(kClientFirst);
    scram.resume(keys_for("crayon"));
    EXPECT_EQ(failure_kind(scram.step(kClientFinal)), FailureKind::kBadCredentials);
}

TEST(Scram, RandomServerNonceExtendsTheClientNonce) {
    ScramSha256 scram(MechanismOptions{});
    scram.start(kClientFirst);
    auto first = as<Challenge>(scram.resume(keys_for("pencil"))).data;
    ASSERT_TRUE(first.starts_with("r=rOprNGfwEbeRWgbNEkqO"));
    auto nonce = first.substr(2, first.find(',') - 2);
    EXPECT_GT(nonce.size(), std::string_view("rOprNGfwEbeRWgbNEkqO").size() + 16);
    auto final_message = client_final("pencil", kClientFirst.substr(3), first, "c=biws,r=" + nonce);
    EXPECT_TRUE(as<Challenge>(scram.step(final_message)).data.starts_with("v="));
    EXPECT_EQ(as<Success>(scram.step("")).user, "user");
}

TEST(Scram, GsHeaderY) {
    ScramSha256 scram(fixed_nonce());
    as<NeedVerify>(scram.start("y,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
    auto first = as<Challenge>(scram.resume(keys_for("pencil"))).data;
    std::string nonce = "rOprNGfwEbeRWgbNEkqO" + std::string(kServerNonce);
    // c= must carry "y,,", not "n,,".
    ScramSha256 mismatch(fixed_nonce());
    mismatch.start("y,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    mismatch.resume(keys_for("pencil"));
    EXPECT_EQ(failure_kind(mismatch.step(client_final("pencil", "n=user,r=rOprNGfwEbeRWgbNEkqO",
                                                      first, "c=biws,r=" + nonce))),
              FailureKind::kMalformed);
    auto good = client_final("pencil", "n=user,r=rOprNGfwEbeRWgbNEkqO", first, "c=eSws,r=" + nonce);
    as<Challenge>(scram.step(good));
    EXPECT_EQ(as<Success>(scram.step("")).user, "user");
}

TEST(Scram, ChannelBindingIsRefused) {
    ScramSha256 scram(fixed_nonce());
    EXPECT_EQ(failure_kind(scram.start("p=tls-unique,,n=user,r=abc")), FailureKind::kMalformed);
    EXPECT_EQ(failure_kind(scram.step("anything")), FailureKind::kMalformed);
}

TEST(Scram, AuthzidMustBeEmptyOrTheSameIdentity) {
    ScramSha256 same(fixed_nonce());
    EXPECT_EQ(as<NeedVerify>(same.start("n,a=User,n=user,r=abc")).user, "user");
    auto first = as<Challenge>(same.resume(keys_for("pencil"))).data;
    // c= carries the whole GS2 header, authzid included: base64("n,a=User,").
    auto final_message =
        client_final("pencil", "n=user,r=abc", first,
                     "c=" + base64_encode("n,a=User,") + ",r=abc" + std::string(kServerNonce));
    as<Challenge>(same.step(final_message));
    as<Success>(same.step(""));

    ScramSha256 other(fixed_nonce());
    EXPECT_EQ(failure_kind(other.start("n,a=admin,n=user,r=abc")), FailureKind::kBadCredentials);
}

TEST(Scram, SaslnameEscapes) {
    ScramSha256 scram(fixed_nonce());
    EXPECT_EQ(as<NeedVerify>(scram.start("n,,n=a=2Cb=3Dc@example.org,r=abc")).user,
              "a,b=c@example.org");
    ScramSha256 bad(fixed_nonce());
    EXPECT_EQ(failure_kind(bad.start("n,,n=a=41b,r=abc")), FailureKind::kMalformed);
}

TEST(Scram, UnknownAccountGetsAStableMadeUpSaltAndFails) {
    auto server_first = [](std::string_view user) {
        ScramSha256 scram(fixed_nonce());
        scram.start("n,,n=" + std::string(user) + ",r=abc");
        return as<Challenge>(scram.resume(answer(Status::kRejected))).data;
    };
    auto a = server_first("ghost@example.org");
    EXPECT_EQ(a, server_first("ghost@example.org"));
    EXPECT_NE(a, server_first("spook@example.org"));
    EXPECT_NE(a.find(",i=4096"), std::string::npos);

    ScramSha256 scram(fixed_nonce());
    scram.start("n,,n=ghost@example.org,r=abc");
    auto first = as<Challenge>(scram.resume(answer(Status::kRejected))).data;
    auto final_message = client_final("pencil", "n=ghost@example.org,r=abc", first,
                                      "c=biws,r=abc" + std::string(kServerNonce));
    EXPECT_EQ(failure_kind(scram.step(final_message)), FailureKind::kBadCredentials);
}

TEST(Scram, StoreFailureIsTemporary) {
    ScramSha256 scram(fixed_nonce());
    scram.start(kClientFirst);
    EXPECT_EQ(failure_kind(scram.resume(answer(Status::kTemporary))), FailureKind::kTemporary);
}

TEST(Scram, MalformedClientFirst) {
    for (std::string_view bad :
         {"", "n", "n,", "x,,n=user,r=abc", "n,,r=abc,n=user", "n,,n=user",
          "n,,n=user,r=", "n,,m=ext,n=user,r=abc",
          "n,,n=user,r=a\x01"
          "b",
          "n,b=x,n=user,r=abc", "n,,n=,r=abc", "n,,n=user,r=abc,1", "N,,n=user,r=abc"}) {
        ScramSha256 scram(fixed_nonce());
        EXPECT_EQ(failure_kind(scram.start(bad)), FailureKind::kMalformed) << bad;
    }
    // Extensions after the nonce are allowed and ignored.
    ScramSha256 scram(fixed_nonce());
    as<NeedVerify>(scram.start("n,,n=user,r=abc,x=future"));
}

TEST(Scram, MalformedClientFinal) {
    std::string nonce = "rOprNGfwEbeRWgbNEkqO" + std::string(kServerNonce);
    for (std::string bad :
         {std::string(""), std::string("c=biws,r=") + nonce,
          "c=biws,r=" + nonce + "x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
          "c=biws,r=" + nonce + ",p=dHzbZapW", "c=biws,r=" + nonce + ",p=not base64",
          "r=" + nonce + ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
          "c=bi,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="}) {
        ScramSha256 scram(fixed_nonce());
        scram.start(kClientFirst);
        scram.resume(keys_for("pencil"));
        EXPECT_EQ(failure_kind(scram.step(bad)), FailureKind::kMalformed) << bad;
    }
}

TEST(Scram, ServerFinalNeedsAnEmptyResponse) {
    ScramSha256 scram(fixed_nonce());
    scram.start(kClientFirst);
    scram.resume(keys_for("pencil"));
    as<Challenge>(scram.step(kClientFinal));
    EXPECT_EQ(failure_kind(scram.step("v=ok")), FailureKind::kMalformed);
    EXPECT_EQ(failure_kind(scram.step("")), FailureKind::kMalformed);  // the exchange is over
}

}  // namespace
}  // namespace tern::auth
