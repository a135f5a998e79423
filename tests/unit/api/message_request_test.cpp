// Unit tests of the sending API's request reader: what a valid request gives, and that every
// kind of bad request is refused with the field it concerns.
#include "api/message_request.h"

#include <gtest/gtest.h>

namespace tern::api {
namespace {

std::expected<MessageRequest, RequestError> parse(std::string_view body,
                                                  RequestLimits limits = {}) {
    return parse_message_request(body, limits);
}

void expect_field(std::string_view body, std::string_view field, std::string_view words = {},
                  RequestLimits limits = {}) {
    auto r = parse(body, limits);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().field, field) << body << " -> " << r.error().message;
    if (!words.empty()) {
        EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
    }
}

TEST(MessageRequest, StructuredRequest) {
    auto r = parse(R"({"from": {"address": "shop@example.org", "name": "Shop"},
        "to": ["bob@example.net", {"address": "carol@example.net", "name": "Carol",
                                   "substitutions": {"first": "Carol"}}],
        "reply_to": "help@example.org", "subject": "Hi", "text": "t", "html": "<p>h</p>",
        "headers": {"X-Campaign": "spring", "List-Id": "<news.example.org>"},
        "attachments": [{"filename": "a.txt", "content_type": "text/plain",
                         "content": "aGVs\nbG8="}]})");
    ASSERT_TRUE(r) << r.error().field << ": " << r.error().message;
    EXPECT_EQ(r->from.address, "shop@example.org");
    EXPECT_EQ(r->from.name, "Shop");
    ASSERT_EQ(r->to.size(), 2u);
    EXPECT_EQ(r->to[1].name, "Carol");
    EXPECT_EQ(r->to[1].substitutions["first"], "Carol");
    EXPECT_TRUE(r->templated);
    ASSERT_EQ(r->reply_to.size(), 1u);
    ASSERT_EQ(r->headers.size(), 2u);
    ASSERT_EQ(r->attachments.size(), 1u);
    EXPECT_EQ(r->attachments[0].content, "hello");
    EXPECT_TRUE(r->raw.empty());
}

TEST(MessageRequest, WithoutSubstitutionsNothingIsATemplate) {
    auto r = parse(R"({"from": "a@example.org", "to": ["b@example.net"], "text": "{{x}}"})");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->templated);
}

TEST(MessageRequest, RawRequest) {
    auto r = parse(R"({"sender": "bounces@example.org", "to": ["b@example.net"],
                       "raw": "From: a@example.org\r\n\r\nhi\r\n"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->sender, "bounces@example.org");
    EXPECT_FALSE(r->raw.empty());
    expect_field(R"({"to": ["b@example.net"], "raw": "x", "subject": "s"})", "subject", "raw");
    expect_field(R"({"to": ["b@example.net"], "raw": "x", "from": "a@example.org"})", "from");
    expect_field(R"({"to": ["b@example.net"], "raw": ""})", "raw", "empty");
    RequestLimits small;
    small.max_message_size = 4;
    expect_field(R"({"to": ["b@example.net"], "raw": "12345"})", "raw", "size limit", small);
}

TEST(MessageRequest, BadJsonIsTheBody) {
    expect_field("", "body", "JSON");
    expect_field("{", "body", "JSON");
    expect_field("[1]", "body", "object");
    expect_field("{\"subject\": \"\xff\xfe\"}", "body", "JSON");  // broken UTF-8
    std::string deep(100, '[');
    expect_field("{\"x\": " + deep, "body", "nested");
    RequestLimits limits;
    limits.max_depth = 3;
    expect_field(R"({"to": [{"address": "b@example.net", "substitutions": {"a": {"b": 1}}}]})",
                 "body", "nested", limits);
}

TEST(MessageRequest, FieldsAreChecked) {
    expect_field(R"({"form": "a@example.org"})", "form", "unknown");
    // Found by the fuzzer: an empty name is still named.
    expect_field(R"({"": "shop@example.org", "tet": "x"})", "\"\"", "unknown");
    expect_field(R"({"from": "a@example.org", "text": "x"})", "to", "required");
    expect_field(R"({"from": "a@example.org", "to": [], "text": "x"})", "to", "at least one");
    expect_field(R"({"from": "a@example.org", "to": "b@example.net", "text": "x"})", "to", "array");
    expect_field(R"({"from": "a@example.org", "to": ["b@example.net", "nope"], "text": "x"})",
                 "to[1]", "address");
    expect_field(R"({"from": "a@example.org", "to": [{"name": "B"}], "text": "x"})",
                 "to[0].address", "required");
    expect_field(R"({"from": "a@example.org", "to": [{"address": "b@example.net", "nmae": 1}],
                     "text": "x"})",
                 "to[0].nmae", "unknown");
    expect_field(R"({"from": 5, "to": ["b@example.net"], "text": "x"})", "from");
    expect_field(R"({"to": ["b@example.net"], "text": "x"})", "from", "required");
    expect_field(R"({"from": "a@example.org", "to": ["b@example.net"]})", "text", "required");
    expect_field(R"({"from": "a@example.org", "to": ["b@example.net"], "text": 1})", "text",
                 "string");
    expect_field(R"({"from": "a@[127.0.0.1]", "to": ["b@example.net"], "text": "x"})", "from",
                 "domain");
    expect_field(R"({"from": "a@example.org", "to": ["b@example.net"], "text": "x",
                     "headers": {"X-A": 1}})",
                 "headers.X-A", "string");
    expect_field(R"({"from": "a@example.org", "to": ["b@example.net"], "text": "x",
                     "substitutions": [1]})",
                 "substitutions", "object");
}

TEST(MessageRequest, RecipientLimit) {
    RequestLimits limits;
    limits.max_recipients = 2;
    expect_field(R"({"from": "a@example.org", "to": ["b@example.net", "c@example.net",
                     "d@example.net"], "text": "x"})",
                 "to", "at most 2", limits);
}

TEST(MessageRequest, Attachments) {
    std::string head = R"({"from": "a@example.org", "to": ["b@example.net"], "text": "x", )";
    expect_field(head + R"("attachments": [{"filename": "a", "content": "!!"}]})",
                 "attachments[0].content", "base64");
    expect_field(head + R"("attachments": [{"filename": "a"}]})", "attachments[0].content",
                 "required");
    expect_field(head + R"("attachments": [{"content": "aGk="}]})", "attachments[0].filename",
                 "required");
    expect_field(head + R"("attachments": [{"inline": true, "content": "aGk="}]})",
                 "attachments[0].content_id", "required");
    expect_field(head + R"("attachments": [{"filename": "a", "content": "aGk=", "size": 2}]})",
                 "attachments[0].size", "unknown");
    RequestLimits small;
    small.max_message_size = 3;
    expect_field(head + R"("attachments": [{"filename": "a", "content": "aGVsbG8="}]})",
                 "attachments[0]", "size limit", small);
}

}  // namespace
}  // namespace tern::api
