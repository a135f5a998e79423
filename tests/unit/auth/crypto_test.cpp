// Unit tests of the crypto primitives against published vectors (FIPS 180-2, RFC 4231,
// RFC 7914 section 11) and of the strict base64 codec.
#include "auth/crypto.h"

#include <gtest/gtest.h>

namespace tern::auth {
namespace {

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

TEST(Crypto, Sha256) {
    EXPECT_EQ(hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
    EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Pbkdf2Sha256) {
    // RFC 7914 section 11 (first 32 octets) and the widely used "password"/"salt" vector.
    EXPECT_EQ(hex(pbkdf2_sha256("passwd", "salt", 1)),
              "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    EXPECT_EQ(hex(pbkdf2_sha256("password", "salt", 1)),
              "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
}

TEST(Crypto, RandomBytesDiffer) {
    auto a = random_bytes(16);
    auto b = random_bytes(16);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 16u);
    EXPECT_NE(*a, *b);
}

TEST(Crypto, Base64RoundTripsEveryLength) {
    std::string data;
    for (int n = 0; n < 70; ++n) {
        auto decoded = base64_decode(base64_encode(data));
        ASSERT_TRUE(decoded) << n;
        EXPECT_EQ(*decoded, data);
        data += static_cast<char>(n * 37 + 200);
    }
    EXPECT_EQ(base64_encode("user"), "dXNlcg==");
    EXPECT_EQ(base64_encode("n,,"), "biws");
    EXPECT_EQ(base64_encode(std::string("\0a\0b", 4)), "AGEAYg==");
}

TEST(Crypto, Base64DecodingIsStrict) {
    for (const char* bad : {"dXNlcg=", "dXNlcg", "dXN lcg==", "dXNlcg==\r\n",
                            "d=Nlcg==", "====", "dXNlch==", "dXNlcm=a", "dXNl*g==", "dX=="})
        EXPECT_FALSE(base64_decode(bad)) << bad;
    EXPECT_EQ(base64_decode(""), std::string());
    EXPECT_EQ(base64_decode("dXNlcg=="), "user");
}

TEST(Crypto, Base64UrlRoundTripsAndIsStrict) {
    std::string data;
    for (int n = 0; n < 70; ++n) {
        auto decoded = base64url_decode(base64url_encode(data));
        ASSERT_TRUE(decoded) << n;
        EXPECT_EQ(*decoded, data);
        data += static_cast<char>(n * 37 + 200);
    }
    EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
    EXPECT_EQ(base64url_decode("-_-_"), "\xfb\xff\xbf");
    for (const char* bad : {"+/+/", "Zg==", "Zm8=", "Z", "Zm9vZ", "Zm9v!"})
        EXPECT_FALSE(base64url_decode(bad)) << bad;
}

TEST(Crypto, ConstantTimeEquality) {
    EXPECT_TRUE(equal_constant_time("abc", "abc"));
    EXPECT_FALSE(equal_constant_time("abc", "abd"));
    EXPECT_FALSE(equal_constant_time("abc", "abcd"));
    EXPECT_TRUE(equal_constant_time("", ""));
}

}  // namespace
}  // namespace tern::auth
