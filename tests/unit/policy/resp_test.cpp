// Unit tests of the RESP2 codec: commands encoded binary-safe, every reply type parsed whatever
// the split of its bytes, several replies in one read, and malformed or oversized input failing
// for good.
#include "policy/resp.h"

#include <gtest/gtest.h>

namespace tern::policy::resp {
namespace {

using Type = Value::Type;

// Feeds `wire` cut at every pair of positions and checks each cut gives the same replies.
std::vector<Value> parse_every_split(const std::string& wire) {
    std::vector<Value> whole;
    {
        Parser p;
        p.feed(wire);
        while (auto v = p.next())
            whole.push_back(*v);
        EXPECT_FALSE(p.failed()) << p.error();
    }
    for (std::size_t i = 0; i <= wire.size(); ++i) {
        for (std::size_t j = i; j <= wire.size(); ++j) {
            Parser p;
            std::vector<Value> got;
            for (auto part : {wire.substr(0, i), wire.substr(i, j - i), wire.substr(j)}) {
                p.feed(part);
                while (auto v = p.next())
                    got.push_back(*v);
            }
            EXPECT_EQ(got, whole) << "split at " << i << "," << j;
        }
    }
    return whole;
}

TEST(RespEncode, ArrayOfBulkStrings) {
    EXPECT_EQ(encode_command({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    std::string binary("a\r\n\0b", 5);
    EXPECT_EQ(encode_command({binary}), std::string("*1\r\n$5\r\na\r\n\0b\r\n", 15));
    EXPECT_EQ(encode_command({""}), "*1\r\n$0\r\n\r\n");
}

TEST(RespParse, EveryTypeInEverySplit) {
    auto v = parse_every_split(
        "+OK\r\n-NOSCRIPT No matching script\r\n:42\r\n:-7\r\n$5\r\nhe\r\nl\r\n$-1\r\n"
        "*3\r\n:1\r\n:250000\r\n$5\r\nearly\r\n*0\r\n*-1\r\n$0\r\n\r\n");
    ASSERT_EQ(v.size(), 10u);
    EXPECT_EQ(v[0].type, Type::kSimple);
    EXPECT_EQ(v[0].text, "OK");
    EXPECT_EQ(v[1].type, Type::kError);
    EXPECT_EQ(v[1].text, "NOSCRIPT No matching script");
    EXPECT_EQ(v[2].integer, 42);
    EXPECT_EQ(v[3].integer, -7);
    EXPECT_EQ(v[4].type, Type::kBulk);
    EXPECT_EQ(v[4].text, "he\r\nl");  // bulk strings are binary-safe
    EXPECT_EQ(v[5].type, Type::kNull);
    ASSERT_EQ(v[6].type, Type::kArray);
    ASSERT_EQ(v[6].items.size(), 3u);
    EXPECT_EQ(v[6].items[1].integer, 250000);
    EXPECT_EQ(v[6].items[2].text, "early");
    EXPECT_EQ(v[7].type, Type::kArray);
    EXPECT_TRUE(v[7].items.empty());
    EXPECT_EQ(v[8].type, Type::kNull);
    EXPECT_EQ(v[9].type, Type::kBulk);
    EXPECT_EQ(v[9].text, "");
}

TEST(RespParse, NestedArrays) {
    auto v = parse_every_split("*2\r\n*1\r\n+a\r\n*2\r\n:1\r\n$1\r\nb\r\n");
    ASSERT_EQ(v.size(), 1u);
    ASSERT_EQ(v[0].items.size(), 2u);
    EXPECT_EQ(v[0].items[0].items[0].text, "a");
    EXPECT_EQ(v[0].items[1].items[1].text, "b");
}

TEST(RespParse, IncompleteWaits) {
    Parser p;
    p.feed("$10\r\nabc");
    EXPECT_FALSE(p.next());
    EXPECT_FALSE(p.failed());
    p.feed("defghij\r\n");
    auto v = p.next();
    ASSERT_TRUE(v);
    EXPECT_EQ(v->text, "abcdefghij");
}

TEST(RespParse, MalformedFailsForGood) {
    for (std::string bad : {"?x\r\n", ":12a\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "*x\r\n", ":\r\n",
                            "$99999999999999999999\r\n"}) {
        Parser p;
        p.feed(bad);
        EXPECT_FALSE(p.next()) << bad;
        EXPECT_TRUE(p.failed()) << bad;
        p.feed("+OK\r\n");
        EXPECT_FALSE(p.next()) << bad;
    }
}

TEST(RespParse, LimitsBound) {
    ParserLimits limits;
    limits.max_bulk = 4;
    limits.max_items = 2;
    limits.max_depth = 2;
    limits.max_line = 8;
    for (std::string bad : {"$5\r\nabcde\r\n", "*3\r\n:1\r\n:2\r\n:3\r\n",
                            "*1\r\n*1\r\n*1\r\n:1\r\n", "+123456789\r\n", "+1234567890"}) {
        Parser p(limits);
        p.feed(bad);
        EXPECT_FALSE(p.next()) << bad;
        EXPECT_TRUE(p.failed()) << bad;
    }
    Parser p(limits);
    p.feed("*2\r\n*1\r\n$4\r\nabcd\r\n:1\r\n");
    EXPECT_TRUE(p.next());
}

}  // namespace
}  // namespace tern::policy::resp
