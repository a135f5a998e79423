// Unit tests of the shared ASCII text helpers (base/text.h): case mapping that leaves other
// octets alone, case-blind comparison, and trimming of blanks and a trailing CR.
#include "base/text.h"

#include <gtest/gtest.h>

namespace tern {
namespace {

TEST(Text, CaseMappingTouchesAsciiLettersOnly) {
    EXPECT_EQ(ascii_lower("MX.Example.COM"), "mx.example.com");
    EXPECT_EQ(ascii_upper("ehlo x-1@[::1]"), "EHLO X-1@[::1]");
    // UTF-8 (É is C3 89) and other octets above 0x7F pass unchanged in both directions.
    EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\xA9"), "\xC3\x89t\xC3\xA9");
    EXPECT_EQ(ascii_upper("\xC3\xA9t\xFF"), "\xC3\xA9T\xFF");
    EXPECT_EQ(ascii_lower(""), "");
    // The neighbours of the letter ranges are not letters.
    EXPECT_EQ(ascii_lower("@[`{"), "@[`{");
    EXPECT_EQ(ascii_upper("@[`{"), "@[`{");
}

TEST(Text, CaseBlindEquality) {
    EXPECT_TRUE(ascii_iequals("PostMaster", "postmaster"));
    EXPECT_TRUE(ascii_iequals("", ""));
    EXPECT_FALSE(ascii_iequals("postmaster", "postmaste"));
    EXPECT_FALSE(ascii_iequals("@", "`"));  // 0x40 and 0x60 differ by the case bit only
    EXPECT_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9"));  // no Unicode case folding
}

TEST(Text, TrimBlanks) {
    EXPECT_EQ(trim_blanks(" \t value \t"), "value");
    EXPECT_EQ(trim_blanks("value\r"), "value");
    EXPECT_EQ(trim_blanks("a b"), "a b");
    EXPECT_EQ(trim_blanks(" \t \r"), "");
    EXPECT_EQ(trim_blanks(""), "");
    EXPECT_EQ(trim_blanks("\rvalue"), "\rvalue");  // a CR is dropped only at the end
    EXPECT_EQ(trim_blanks("x\n"), "x\n");          // line feeds are not blanks
}

TEST(Text, SplitBlanksGivesTheWords) {
    using V = std::vector<std::string_view>;
    EXPECT_EQ(split_blanks("example.com  sel\t/k/f.key "), (V{"example.com", "sel", "/k/f.key"}));
    EXPECT_EQ(split_blanks(""), V{});
    EXPECT_EQ(split_blanks(" \t "), V{});
    EXPECT_EQ(split_blanks("one"), V{"one"});
}

}  // namespace
}  // namespace tern

namespace tern {
namespace {

TEST(Text, HexLowerWritesTwoDigitsAnOctet) {
    EXPECT_EQ(hex_lower(""), "");
    EXPECT_EQ(hex_lower(std::string("\x00\x0f\xa5\xff", 4)), "000fa5ff");
}

}  // namespace
}  // namespace tern
