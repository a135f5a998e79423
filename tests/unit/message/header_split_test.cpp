// Cutting a message text into raw header fields and body, and line-end conversion.
#include "message/header_split.h"

#include <gtest/gtest.h>

namespace tern::message {
namespace {

TEST(HeaderSplit, FieldsWithFoldsAndBody) {
    auto s = split_header("A: 1\r\nB: 2\r\n\t3\r\n  4\r\nC:5\r\n\r\nbody\r\n\r\nmore");
    ASSERT_EQ(s.fields.size(), 3u);
    EXPECT_EQ(s.fields[0], "A: 1\r\n");
    EXPECT_EQ(s.fields[1], "B: 2\r\n\t3\r\n  4\r\n");
    EXPECT_EQ(s.fields[2], "C:5\r\n");
    EXPECT_EQ(s.body, "body\r\n\r\nmore");
}

TEST(HeaderSplit, NoBody) {
    auto s = split_header("A: 1\r\nB: 2");
    ASSERT_EQ(s.fields.size(), 2u);
    EXPECT_EQ(s.fields[1], "B: 2\r\n");
    EXPECT_EQ(s.body, "");
    EXPECT_EQ(split_header("A: 1\r\n\r\n").body, "");
    EXPECT_TRUE(split_header("").fields.empty());
    EXPECT_EQ(split_header("\r\nbody").body, "body");
    EXPECT_EQ(split_header(" leading\r\n\r\n").fields[0], " leading\r\n");
}

TEST(HeaderSplit, LineEnds) {
    EXPECT_EQ(to_crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
    EXPECT_TRUE(has_bare_lf("a\nb"));
    EXPECT_FALSE(has_bare_lf("a\r\nb"));
    EXPECT_TRUE(has_bare_lf("\n"));
}

}  // namespace
}  // namespace tern::message
