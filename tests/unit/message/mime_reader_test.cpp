// MimeReader: fields unfolded, Content-Type parameters (quoted, escaped, odd spacing), parts by
// their boundary with and without the closing one, nested messages, decoding, and the limits.
#include "message/mime_reader.h"

#include <gtest/gtest.h>

namespace tern::message {
namespace {

TEST(MimeReader, FieldsAndParameters) {
    auto e = read_mime(
        "From: a@example.org\r\n"
        "Content-Type: Multipart/Mixed;\r\n"
        "\tboundary = \"=_a \\\"b\\\"\" ; charset=utf-8 (comment)\r\n"
        "Subject: one\r\n"
        "  two\r\n"
        "\r\n"
        "preamble\r\n"
        "--=_a \"b\"\r\n"
        "\r\n"
        "first\r\n"
        "--=_a \"b\"  \r\n"
        "Content-Type: text/html\r\n"
        "\r\n"
        "<p>second</p>\r\n"
        "--=_a \"b\"--\r\n"
        "epilogue\r\n");
    EXPECT_EQ(e.type, "multipart/mixed");
    EXPECT_EQ(e.param("boundary"), "=_a \"b\"");
    ASSERT_NE(e.field("subject"), nullptr);
    EXPECT_EQ(*e.field("subject"), "one two");
    ASSERT_EQ(e.parts.size(), 2u);
    EXPECT_EQ(e.parts[0].type, "text/plain");  // the default
    EXPECT_EQ(e.parts[0].body, "first");
    EXPECT_EQ(e.parts[1].type, "text/html");
    EXPECT_EQ(e.parts[1].body, "<p>second</p>");
}

TEST(MimeReader, MissingClosingBoundaryAndNestedMessage) {
    auto e = read_mime(
        "Content-Type: multipart/report; boundary=x\n"
        "\n"
        "--x\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Subject: inner\n"
        "Message-ID: <i@example.org>\n"
        "\n"
        "inner body\n");
    ASSERT_EQ(e.parts.size(), 1u);
    ASSERT_EQ(e.parts[0].parts.size(), 1u);
    EXPECT_EQ(*e.parts[0].parts[0].field("Message-ID"), "<i@example.org>");
    EXPECT_EQ(e.parts[0].parts[0].body, "inner body\n");
}

TEST(MimeReader, Decoding) {
    MimeEntity qp;
    qp.encoding = "quoted-printable";
    qp.body = "caf=C3=A9 =\r\nsoft=3D =ZZ end=";
    EXPECT_EQ(qp.decoded(), "caf\xc3\xa9 soft= =ZZ end");
    MimeEntity b64;
    b64.encoding = "base64";
    b64.body = "aGVs\r\nbG8g\r\nd29y bGQ=\r\n";
    EXPECT_EQ(b64.decoded(), "hello world");
    b64.body = "aGVsbG8gd29ybGQ";  // padding missing
    EXPECT_EQ(b64.decoded(), "hello world");
    b64.body = "aGVsbG8gd29ybGQ=x";  // a stray character at the end
    EXPECT_EQ(b64.decoded(), "hello world");
    MimeEntity plain;
    plain.encoding = "8bit";
    plain.body = "as is=41";
    EXPECT_EQ(plain.decoded(), "as is=41");
}

TEST(MimeReader, Limits) {
    std::string text = "Content-Type: multipart/mixed; boundary=b\n\n";
    for (int i = 0; i < 1000; ++i)
        text += "--b\n\npart\n";
    auto e = read_mime(text, MimeLimits{8, 50});
    EXPECT_EQ(e.parts.size(), 49u);  // the top entity counts as one
    std::string deep;
    for (int i = 0; i < 100; ++i)
        deep += "Content-Type: message/rfc822\n\n";
    auto d = read_mime(deep, MimeLimits{4, 200});
    std::size_t depth = 0;
    for (const MimeEntity* p = &d; !p->parts.empty(); p = &p->parts.front())
        ++depth;
    EXPECT_EQ(depth, 4u);
}

}  // namespace
}  // namespace tern::message
