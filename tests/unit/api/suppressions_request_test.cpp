// The suppression list's HTTP requests: query strings, and PUT bodies (one entry or many),
// every refusal naming its field.
#include <gtest/gtest.h>

#include "api/query.h"
#include "api/suppressions_api.h"

namespace tern::api {
namespace {

TEST(Query, PercentDecoding) {
    EXPECT_EQ(percent_decode("bob%40example.org"), "bob@example.org");
    EXPECT_EQ(percent_decode("a+b%2Bc"), "a+b+c");
    EXPECT_EQ(percent_decode("%e2%82%AC"), "\xE2\x82\xAC");
    EXPECT_FALSE(percent_decode("%4"));
    EXPECT_FALSE(percent_decode("%"));
    EXPECT_FALSE(percent_decode("%zz"));
    EXPECT_FALSE(percent_decode("a%00b"));
    EXPECT_EQ(query_value("/x?after=a%40b&limit=5", "limit"), "5");
    EXPECT_EQ(query_value("/x?after=a%40b&limit=5", "after"), "a%40b");
    EXPECT_FALSE(query_value("/x?after=1", "limit"));
    EXPECT_EQ(parse_number("42"), 42u);
    EXPECT_FALSE(parse_number("-1"));
    EXPECT_FALSE(parse_number(""));
    EXPECT_FALSE(parse_number("1x"));
}

TEST(SuppressionRequest, ManyEntries) {
    auto r = parse_suppression_request(
        R"({"suppressions": [{"address": "Bob@Example.org", "reason": "unsubscribe",
            "detail": "asked by phone"}, {"address": "x@example.net"}]})",
        "", 100, 8);
    ASSERT_TRUE(r) << r.error().field << ": " << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].address, "bob@example.org");
    EXPECT_EQ((*r)[0].reason, suppress::Reason::kUnsubscribe);
    EXPECT_EQ((*r)[0].detail, "asked by phone");
    EXPECT_EQ((*r)[1].reason, suppress::Reason::kManual);
}

TEST(SuppressionRequest, OneAddressWithOrWithoutABody) {
    auto empty = parse_suppression_request("", "a@example.org", 100, 8);
    ASSERT_TRUE(empty);
    EXPECT_EQ((*empty)[0].address, "a@example.org");
    auto body = parse_suppression_request(R"({"reason": "complaint"})", "a@example.org", 100, 8);
    ASSERT_TRUE(body);
    EXPECT_EQ((*body)[0].reason, suppress::Reason::kComplaint);
    // The address is the path's; a body cannot name another.
    auto other =
        parse_suppression_request(R"({"address": "b@example.org"})", "a@example.org", 100, 8);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().field, "address");
}

TEST(SuppressionRequest, RefusalsNameTheField) {
    struct Bad {
        const char* body;
        const char* field;
    };
    const Bad bad[] = {
        {"", "body"},
        {"[1]", "body"},
        {"{\"suppressions\": 1}", "suppressions"},
        {"{\"suppressions\": []}", "suppressions"},
        {"{\"suppressions\": [{}]}", "suppressions[0].address"},
        {"{\"suppressions\": [1]}", "suppressions[0]"},
        {"{\"suppressions\": [{\"address\": \"no at\"}]}", "suppressions[0].address"},
        {"{\"suppressions\": [{\"address\": 5}]}", "suppressions[0].address"},
        {"{\"suppressions\": [{\"address\": \"a@b.org\", \"reason\": \"spam\"}]}",
         "suppressions[0].reason"},
        {"{\"suppressions\": [{\"address\": \"a@b.org\", \"why\": \"x\"}]}", "suppressions[0].why"},
        {"{\"suppressions\": [], \"extra\": 1}", "extra"},
        {"{\"\": 1}", "\"\""},  // found by the fuzzer: an empty name is still named
        {"{\"suppressions\": [{\"address\": \"a@b.org\", \"\": 1}]}", "suppressions[0].\"\""},
        {"{\"suppressions\": [[[[[[[[[[1]]]]]]]]]]}", "body"},
        {"{\"suppressions\": [{\"address\": \"a@b.org\", \"detail\": \""
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}, "
         "{\"address\": \"c@d.org\"}, {\"address\": \"e@f.org\"}, {\"address\": \"g@h.org\"}]}",
         "suppressions"},
    };
    for (const auto& b : bad) {
        auto r = parse_suppression_request(b.body, "", 3, 8);
        ASSERT_FALSE(r) << b.body;
        EXPECT_EQ(r.error().field, b.field) << b.body << ": " << r.error().message;
    }
    std::string long_detail = R"({"detail": ")" + std::string(1001, 'x') + R"("})";
    auto r = parse_suppression_request(long_detail, "a@example.org", 3, 8);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "detail");
}

}  // namespace
}  // namespace tern::api
