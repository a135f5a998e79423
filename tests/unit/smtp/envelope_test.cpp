// Unit tests of envelope helpers: xtext coding of RFC 3461 section 4 (ENVID, ORCPT, AUTH=) and
// the NOTIFY set with its defaults.
#include "smtp/envelope.h"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

TEST(Xtext, Decode) {
    EXPECT_EQ(decode_xtext("plain"), "plain");
    EXPECT_EQ(decode_xtext("a+2Bb"), "a+b");
    EXPECT_EQ(decode_xtext("+3D+20+2B"), "= +");
    EXPECT_EQ(decode_xtext("rfc822;a@b.example"), "rfc822;a@b.example");
    EXPECT_EQ(decode_xtext(""), "");
    EXPECT_EQ(decode_xtext("+00"), std::string(1, '\0'));
    EXPECT_EQ(decode_xtext("+FF"), "\xFF");
}

TEST(Xtext, DecodeRefusesMalformed) {
    for (std::string_view bad :
         {"a+", "a+2", "+2b", "+G0", "a=b", "a b", "tab\t", "\x7F", "\xC3\xA9", "+ 2B"})
        EXPECT_FALSE(decode_xtext(bad)) << bad;
}

TEST(Xtext, EncodeEscapesWhatXtextCannotCarry) {
    EXPECT_EQ(encode_xtext("plain"), "plain");
    EXPECT_EQ(encode_xtext("a+b=c d"), "a+2Bb+3Dc+20d");
    EXPECT_EQ(encode_xtext("\xC3\xA9"), "+C3+A9");
    EXPECT_EQ(encode_xtext(std::string(1, '\0')), "+00");
}

TEST(Xtext, RoundTripOfEveryOctet) {
    std::string all;
    for (int c = 0; c < 256; ++c)
        all += static_cast<char>(c);
    EXPECT_EQ(decode_xtext(encode_xtext(all)), all);
}

TEST(DsnNotify, DefaultsWhenNotGiven) {
    DsnNotify n;
    EXPECT_FALSE(n.given());
    EXPECT_EQ(n.str(), "");
    EXPECT_FALSE(n.wants_success());
    EXPECT_TRUE(n.wants_failure());
    EXPECT_TRUE(n.wants_delay());
}

TEST(DsnNotify, Never) {
    DsnNotify n;
    n.never = true;
    EXPECT_EQ(n.str(), "NEVER");
    EXPECT_FALSE(n.wants_success());
    EXPECT_FALSE(n.wants_failure());
    EXPECT_FALSE(n.wants_delay());
}

TEST(DsnNotify, ExplicitSet) {
    DsnNotify n;
    n.success = true;
    n.delay = true;
    EXPECT_EQ(n.str(), "SUCCESS,DELAY");
    EXPECT_TRUE(n.wants_success());
    EXPECT_FALSE(n.wants_failure());
    EXPECT_TRUE(n.wants_delay());
}

}  // namespace
}  // namespace tern::smtp
