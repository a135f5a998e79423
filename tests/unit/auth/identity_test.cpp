// Unit tests of identity normalisation, the SASLprep subset and account-name syntax.
#include "auth/identity.h"

#include <gtest/gtest.h>

namespace tern::auth {
namespace {

TEST(Identity, NormalisationLowerCasesTheWholeAddress) {
    EXPECT_EQ(normalize_identity("Alice@Example.ORG"), "alice@example.org");
    EXPECT_EQ(normalize_identity("bob"), "bob");
    // Non-ASCII letters are left as they are (no Unicode case folding).
    EXPECT_EQ(normalize_identity("J\xc3\x96RG@example.org"), "j\xc3\x96rg@example.org");
}

TEST(Identity, ControlCharactersAndBadUtf8AreRefused) {
    for (std::string_view bad :
         {std::string_view(""), std::string_view("a\0b", 3), std::string_view("tab\there"),
          std::string_view("del\x7f"), std::string_view("c1\xc2\x85"), std::string_view("\xff\xfe"),
          std::string_view("\xc0\xaf"), std::string_view("\xed\xa0\x80")})
        EXPECT_FALSE(normalize_identity(bad)) << bad;
    EXPECT_FALSE(normalize_identity(std::string(kMaxIdentity + 1, 'a')));
    EXPECT_TRUE(normalize_identity(std::string(kMaxIdentity, 'a')));
    EXPECT_TRUE(prep_acceptable("caf\xc3\xa9 \xc2\xa0"));  // U+00A0 is not a control
}

TEST(Identity, AccountNames) {
    EXPECT_EQ(parse_account_name("Alice@Example.org"), "alice@example.org");
    EXPECT_EQ(parse_account_name("first.last+tag@sub.example.org"),
              "first.last+tag@sub.example.org");
    for (const char* bad :
         {"alice", "@example.org", "alice@", "a b@example.org", "\"a b\"@example.org",
          "alice@[192.0.2.1]", "alice@@example.org", "alice@exa mple.org", ""}) {
        auto r = parse_account_name(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
    }
    EXPECT_FALSE(parse_account_name(std::string(60, 'a') + "@" + std::string(200, 'b') + ".org"));
}

TEST(Identity, Passwords) {
    EXPECT_TRUE(check_password("correct horse battery staple"));
    EXPECT_TRUE(check_password("p\xc3\xa4ssword"));
    EXPECT_FALSE(check_password(""));
    EXPECT_FALSE(check_password(std::string_view("a\0b", 3)));
    EXPECT_FALSE(check_password("line\n"));
    EXPECT_FALSE(check_password(std::string(kMaxPassword + 1, 'x')));
    EXPECT_TRUE(check_password(std::string(kMaxPassword, 'x')));
}

}  // namespace
}  // namespace tern::auth
