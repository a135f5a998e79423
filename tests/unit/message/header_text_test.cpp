// Unit tests of header text cleaning and folding: what an untrusted value becomes in a header,
// and where long fields break.
#include "message/header_text.h"

#include <gtest/gtest.h>

#include <string>

namespace tern::message {
namespace {

using namespace std::string_literals;

TEST(CleanHeaderText, LineBreaksBecomeOneSpaceAndControlsGo) {
    EXPECT_EQ(clean_header_text("  550 no\r\n\tsuch\x01 user \r\n", false), "550 no such user");
    EXPECT_EQ(clean_header_text("a\0b\x7F"s, false), "ab");
    EXPECT_EQ(clean_header_text("\r\n", false), "");
}

TEST(CleanHeaderText, Utf8OnlyWhenAllowedAndWellFormed) {
    EXPECT_EQ(clean_header_text("d\xC3\xB6rte", true), "d\xC3\xB6rte");
    EXPECT_EQ(clean_header_text("d\xC3\xB6rte", false), "d?rte");
    EXPECT_EQ(clean_header_text("\xC0\xAF \xED\xA0\x80 \xFF", true), "?? ??? ?");
}

TEST(FoldHeader, ShortFieldOnOneLine) {
    EXPECT_EQ(fold_header("Subject", "Hello"), "Subject: Hello\r\n");
}

TEST(FoldHeader, BreaksBeforeTheWordThatWouldPassSeventyEight) {
    std::string value(60, 'a');
    value += " bbbbbbbbbbbbbbbbbbbb c";
    EXPECT_EQ(fold_header("X-Test", value),
              "X-Test: " + std::string(60, 'a') + "\r\n bbbbbbbbbbbbbbbbbbbb c\r\n");
}

TEST(FoldHeader, LongWordIsKeptWholeUpToTheHardLimit) {
    std::string word(200, 'w');
    EXPECT_EQ(fold_header("X-Test", word), "X-Test: " + word + "\r\n");
    std::string huge(2500, 'h');
    std::string folded = fold_header("X-Test", huge);
    std::size_t start = 0, octets = 0;
    while (start < folded.size()) {
        std::size_t end = folded.find("\r\n", start);
        EXPECT_LE(end - start, kMaxLine);
        octets += end - start;
        start = end + 2;
    }
    EXPECT_GT(octets, huge.size());
}

}  // namespace
}  // namespace tern::message
