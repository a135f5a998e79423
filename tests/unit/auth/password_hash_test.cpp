// Unit tests of argon2id hashing: PHC format with the configured costs, verification true and
// false, and hashes that cannot be parsed.
#include "auth/password_hash.h"

#include <gtest/gtest.h>

#include "temp_store.h"

namespace tern::auth {
namespace {

constexpr Argon2Params kCheap = testing::kCheapHashing.argon2;

TEST(PasswordHash, HashesInPhcFormatWithTheGivenCosts) {
    auto h = hash_password("pencil", kCheap);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_TRUE(h->starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << *h;
    EXPECT_EQ(h->find("pencil"), std::string::npos);
    auto again = hash_password("pencil", kCheap);
    ASSERT_TRUE(again);
    EXPECT_NE(*h, *again);  // fresh salt each time
}

TEST(PasswordHash, VerifiesTrueAndFalse) {
    auto h = hash_password("pencil", kCheap);
    ASSERT_TRUE(h);
    EXPECT_TRUE(password_matches(*h, "pencil"));
    EXPECT_FALSE(password_matches(*h, "Pencil"));
    EXPECT_FALSE(password_matches(*h, "pencil "));
    EXPECT_FALSE(password_matches(*h, ""));
}

TEST(PasswordHash, OlderCostsStillVerify) {
    auto h = hash_password("pencil", Argon2Params{2048, 2, 2});
    ASSERT_TRUE(h);
    EXPECT_TRUE(password_matches(*h, "pencil"));
}

TEST(PasswordHash, UnparseableHashNeverMatches) {
    EXPECT_FALSE(password_matches("", "pencil"));
    EXPECT_FALSE(password_matches("pencil", "pencil"));
    EXPECT_FALSE(password_matches("$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "pencil"));
}

TEST(PasswordHash, RefusedParameters) {
    auto h = hash_password("pencil", Argon2Params{1, 1, 1});  // below libargon2's minimum
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace tern::auth
