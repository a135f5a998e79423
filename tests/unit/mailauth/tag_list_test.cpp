// The tag=value list of RFC 6376 section 3.2: names, values, folding white space, errors.
#include "mailauth/tag_list.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

TEST(TagList, NamesAndTrimmedValues) {
    auto tags = parse_tag_list(" v=1; a = rsa-sha256 ;\r\n\tb=abc\r\n def; z=");
    ASSERT_TRUE(tags) << tags.error();
    ASSERT_EQ(tags->size(), 4u);
    EXPECT_EQ((*tags)[0].name, "v");
    EXPECT_EQ((*tags)[0].value, "1");
    EXPECT_EQ((*tags)[1].name, "a");
    EXPECT_EQ((*tags)[1].value, "rsa-sha256");
    EXPECT_EQ((*tags)[2].value, "abc\r\n def");  // inner FWS kept
    EXPECT_EQ((*tags)[3].name, "z");
    EXPECT_EQ((*tags)[3].value, "");
    EXPECT_EQ(without_fws((*tags)[2].value), "abcdef");
}

TEST(TagList, RawSpanCoversTheWholeValue) {
    std::string text = "bh=xyz; b= AB\r\n CD ;c=1";
    auto tags = parse_tag_list(text);
    ASSERT_TRUE(tags);
    const Tag* b = find_tag(*tags, "b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(text.substr(b->raw_begin, b->raw_end - b->raw_begin), " AB\r\n CD ");
    EXPECT_EQ(find_tag(*tags, "B"), nullptr);  // names are case-sensitive
}

TEST(TagList, TrailingSemicolonAndEmptyEntries) {
    EXPECT_TRUE(parse_tag_list("a=1;"));
    EXPECT_TRUE(parse_tag_list("a=1; ;b=2"));
    EXPECT_TRUE(parse_tag_list(""));
    EXPECT_TRUE(parse_tag_list("a=1\r\n"));  // a field's final CRLF
}

TEST(TagList, Errors) {
    for (std::string_view bad : {"a=1; a=2", "1a=x", "a", "a 1=2", "=x", "a=b\rc", "a=b\nc",
                                 "a=b\r\nc", "a=b\x01", "a=\x7f", "_a=1"})
        EXPECT_FALSE(parse_tag_list(bad)) << bad;
    EXPECT_EQ(parse_tag_list("d=x; d=y").error(), "tag d is repeated");
}

TEST(TagList, Utf8ValuesAllowed) {
    auto tags = parse_tag_list("i=j\xc3\xb6rg@example.com");
    ASSERT_TRUE(tags);
    EXPECT_EQ((*tags)[0].value, "j\xc3\xb6rg@example.com");
}

TEST(TagList, ColonLists) {
    auto items = split_colon_list("from : to:\r\n subject");
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0], "from");
    EXPECT_EQ(items[1], "to");
    EXPECT_EQ(items[2], "subject");
    EXPECT_TRUE(is_single_token("rsa-sha256"));
    EXPECT_FALSE(is_single_token("rsa sha256"));
}

TEST(TagList, QuotedPrintable) {
    EXPECT_EQ(decode_dkim_quoted_printable("joe=40x@example.com"), "joe@x@example.com");
    EXPECT_EQ(decode_dkim_quoted_printable("a =3D\r\n b"), "a=b");
    EXPECT_EQ(decode_dkim_quoted_printable("a=3"), std::nullopt);
    EXPECT_EQ(decode_dkim_quoted_printable("a=zz"), std::nullopt);
}

TEST(TagList, Decimals) {
    EXPECT_EQ(parse_decimal("0", 12), 0u);
    EXPECT_EQ(parse_decimal("1528637909", 12), 1528637909u);
    EXPECT_EQ(parse_decimal("1234567890123", 12), std::nullopt);
    EXPECT_EQ(parse_decimal("", 12), std::nullopt);
    EXPECT_EQ(parse_decimal("12a", 12), std::nullopt);
    EXPECT_EQ(parse_decimal("-1", 12), std::nullopt);
    EXPECT_EQ(parse_decimal(std::string(76, '9'), 76), UINT64_MAX);  // saturates
    EXPECT_EQ(parse_decimal(std::string(77, '9'), 76), std::nullopt);
    EXPECT_EQ(parse_decimal("18446744073709551615", 76), UINT64_MAX);
    EXPECT_EQ(parse_decimal("18446744073709551614", 76), UINT64_MAX - 1);
}

}  // namespace
}  // namespace tern::mailauth
