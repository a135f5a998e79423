// Unit tests of the CR LF to LF conversion of Maildir files: what changes, what stays (a lone
// CR), and that the result never depends on where the text was cut into chunks.
#include "delivery/crlf_to_lf.h"

#include <gtest/gtest.h>

namespace tern::delivery {
namespace {

std::string convert_whole(std::string_view text) {
    CrlfToLf converter;
    std::string out;
    converter.convert(text, out);
    converter.finish(out);
    return out;
}

TEST(CrlfToLf, CrLfBecomesLf) {
    EXPECT_EQ(convert_whole("Subject: a\r\n\r\nbody\r\n"), "Subject: a\n\nbody\n");
    EXPECT_EQ(convert_whole(""), "");
    EXPECT_EQ(convert_whole("\r\n"), "\n");
    EXPECT_EQ(convert_whole("no line end"), "no line end");
}

TEST(CrlfToLf, LoneCrAndLoneLfStay) {
    EXPECT_EQ(convert_whole("a\rb\r\n"), "a\rb\n");
    EXPECT_EQ(convert_whole("a\nb\n"), "a\nb\n");
    EXPECT_EQ(convert_whole("ends with CR\r"), "ends with CR\r");
    EXPECT_EQ(convert_whole("\r\r\n"), "\r\n");
    EXPECT_EQ(convert_whole("\r\r\r"), "\r\r\r");
    EXPECT_EQ(convert_whole("\n\r"), "\n\r");
}

// Every way of cutting the text in two and in three gives the same result as the whole text.
TEST(CrlfToLf, OutputDoesNotDependOnChunks) {
    const std::string text = "A: 1\r\n\rB\r\r\n\r\nbody\n\r\r\nend\r";
    const std::string whole = convert_whole(text);
    EXPECT_EQ(whole, "A: 1\n\rB\r\n\nbody\n\r\nend\r");
    for (std::size_t i = 0; i <= text.size(); ++i) {
        for (std::size_t j = i; j <= text.size(); ++j) {
            CrlfToLf converter;
            std::string out;
            std::string_view view(text);
            converter.convert(view.substr(0, i), out);
            converter.convert(view.substr(i, j - i), out);
            converter.convert(view.substr(j), out);
            converter.finish(out);
            ASSERT_EQ(out, whole) << "cut at " << i << " and " << j;
        }
    }
}

TEST(CrlfToLf, OneOctetAtATime) {
    const std::string text = "x\r\ny\r\r\nz\r";
    CrlfToLf converter;
    std::string out;
    for (char c : text)
        converter.convert(std::string_view(&c, 1), out);
    converter.finish(out);
    EXPECT_EQ(out, "x\ny\r\nz\r");
}

}  // namespace
}  // namespace tern::delivery
