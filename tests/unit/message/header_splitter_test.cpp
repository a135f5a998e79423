// HeaderSplitter: fields with folding, the empty line, messages without one, bare LF, and the
// same result however the text is cut into pieces.
#include "message/header_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tern::message {
namespace {

struct Collected : HeaderSink {
    std::vector<std::string> fields;
    std::string separator = "<none>";
    std::string body;
    int ends = 0;
    void on_field(std::string_view raw) override { fields.emplace_back(raw); }
    void on_end_of_headers(std::string_view sep) override {
        separator = sep;
        ++ends;
    }
    void on_body(std::string_view bytes) override { body += bytes; }
};

Collected split(std::string_view text, std::size_t piece = 0, std::size_t max_field = 1 << 20) {
    HeaderSplitter s(max_field);
    Collected c;
    if (piece == 0) {
        s.feed(text, c);
    } else {
        for (std::size_t i = 0; i < text.size(); i += piece)
            s.feed(text.substr(i, piece), c);
    }
    s.finish(c);
    return c;
}

TEST(HeaderSplitter, FieldsWithFoldingThenBody) {
    std::string text =
        "Received: from a\r\n by b;\r\n\tThu, 1 Jan 2026 00:00:00 +0000\r\nSubject: hi\r\n"
        "\r\nbody line\r\n\r\nmore\r\n";
    auto c = split(text);
    ASSERT_EQ(c.fields.size(), 2u);
    EXPECT_EQ(c.fields[0], "Received: from a\r\n by b;\r\n\tThu, 1 Jan 2026 00:00:00 +0000\r\n");
    EXPECT_EQ(c.fields[1], "Subject: hi\r\n");
    EXPECT_EQ(c.separator, "\r\n");
    EXPECT_EQ(c.body, "body line\r\n\r\nmore\r\n");
    EXPECT_EQ(c.ends, 1);
    EXPECT_EQ(field_name(c.fields[1]), "Subject");
    EXPECT_EQ(field_value(c.fields[1]), " hi\r\n");
}

TEST(HeaderSplitter, TheSameForEverySplit) {
    std::string text =
        "From: a@example.com\r\nTo: b@example.com,\r\n  c@example.com\r\nX-Empty:\r\n\r\nbody\r\n";
    auto whole = split(text);
    for (std::size_t piece = 1; piece <= text.size(); ++piece) {
        auto c = split(text, piece);
        EXPECT_EQ(c.fields, whole.fields) << piece;
        EXPECT_EQ(c.separator, whole.separator) << piece;
        EXPECT_EQ(c.body, whole.body) << piece;
    }
}

TEST(HeaderSplitter, BareLfLinesAndNoEmptyLine) {
    auto c = split("Subject: lf\nFrom: x\n\nbody\n");
    ASSERT_EQ(c.fields.size(), 2u);
    EXPECT_EQ(c.fields[0], "Subject: lf\n");
    EXPECT_EQ(c.separator, "\n");
    EXPECT_EQ(c.body, "body\n");
    // A line that is neither a field nor a continuation begins the body.
    c = split("Subject: x\r\nthis is not a header\r\nnor this\r\n");
    ASSERT_EQ(c.fields.size(), 1u);
    EXPECT_EQ(c.separator, "");
    EXPECT_EQ(c.body, "this is not a header\r\nnor this\r\n");
}

TEST(HeaderSplitter, TextEndingInsideTheHeaderSection) {
    auto c = split("Subject: no end");
    ASSERT_EQ(c.fields.size(), 1u);
    EXPECT_EQ(c.fields[0], "Subject: no end");
    EXPECT_EQ(c.ends, 1);
    c = split("");
    EXPECT_TRUE(c.fields.empty());
    EXPECT_EQ(c.ends, 1);
    // A leading continuation line has no field to continue: body.
    c = split(" folded first\r\nSubject: late\r\n\r\n");
    EXPECT_TRUE(c.fields.empty());
    EXPECT_EQ(c.body, " folded first\r\nSubject: late\r\n\r\n");
}

TEST(HeaderSplitter, AnOversizedFieldStopsSplitting) {
    std::string text = "Subject: " + std::string(100, 'x') + "\r\n\r\nbody\r\n";
    HeaderSplitter s(50);
    Collected c;
    s.feed(text, c);
    s.finish(c);
    EXPECT_TRUE(s.too_large());
    EXPECT_TRUE(c.fields.empty());
    EXPECT_EQ(c.body, text);  // nothing lost: all of it went on as body
}

TEST(HeaderSplitter, FieldNamesFollowRfc5322) {
    EXPECT_TRUE(starts_field("Subject: x"));
    EXPECT_TRUE(starts_field("X-Obs-Space : x"));
    EXPECT_FALSE(starts_field(": no name"));
    EXPECT_FALSE(starts_field("No colon here"));
    EXPECT_FALSE(starts_field("Bad Name: x"));
}

}  // namespace
}  // namespace tern::message
