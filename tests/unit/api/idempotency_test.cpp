// IdempotencyDb: a key claimed, answered and answered again; another body; a key in use; keys
// per owner; retention; rows of a stopped daemon's running requests dropped at open.
#include "api/idempotency.h"

#include <gtest/gtest.h>

#include "test_files.h"

namespace tern::api {
namespace {

using Kind = IdempotencyClaim::Kind;
constexpr std::int64_t kDay = 86400;

TEST(IdempotencyDb, ClaimAnswerReplay) {
    testing::TempDir dir;
    auto db = IdempotencyDb::open(dir.path() + "/i.sqlite");
    ASSERT_TRUE(db) << db.error().message;
    auto first = (*db)->begin("shop", "k1", "d1", 1000, kDay);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->kind, Kind::kStarted);
    EXPECT_EQ((*db)->begin("shop", "k1", "d1", 1001, kDay)->kind, Kind::kRunning);
    EXPECT_EQ((*db)->begin("shop", "k1", "d2", 1001, kDay)->kind, Kind::kMismatch);
    EXPECT_EQ((*db)->begin("erp", "k1", "d2", 1001, kDay)->kind, Kind::kStarted);
    ASSERT_TRUE((*db)->finish("shop", "k1", 200, "{\"queued\": 1}\n"));
    auto again = (*db)->begin("shop", "k1", "d1", 1002, kDay);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, Kind::kDone);
    EXPECT_EQ(again->status, 200);
    EXPECT_EQ(again->body, "{\"queued\": 1}\n");
    EXPECT_EQ((*db)->begin("shop", "k1", "d2", 1002, kDay)->kind, Kind::kMismatch);
    // Past the retention the key is new again.
    EXPECT_EQ((*db)->begin("shop", "k1", "d2", 1000 + kDay + 1, kDay)->kind, Kind::kStarted);
}

TEST(IdempotencyDb, AbandonedAndInterruptedRequestsCanRunAgain) {
    testing::TempDir dir;
    std::string path = dir.path() + "/i.sqlite";
    {
        auto db = IdempotencyDb::open(path);
        ASSERT_TRUE(db);
        EXPECT_EQ((*db)->begin("shop", "k1", "d1", 1000, kDay)->kind, Kind::kStarted);
        ASSERT_TRUE((*db)->abandon("shop", "k1"));
        EXPECT_EQ((*db)->begin("shop", "k1", "d1", 1000, kDay)->kind, Kind::kStarted);
        EXPECT_EQ((*db)->begin("shop", "k2", "d1", 1000, kDay)->kind, Kind::kStarted);
        ASSERT_TRUE((*db)->finish("shop", "k2", 422, "{}"));
    }  // the daemon stops with k1 running
    auto db = IdempotencyDb::open(path);
    ASSERT_TRUE(db);
    EXPECT_EQ((*db)->begin("shop", "k1", "d1", 1001, kDay)->kind, Kind::kStarted);
    EXPECT_EQ((*db)->begin("shop", "k2", "d1", 1001, kDay)->kind, Kind::kDone);
}

TEST(IdempotencyKey, Syntax) {
    EXPECT_TRUE(valid_idempotency_key("8e03978e-40d5-43e8-bc93-6894a57f9324"));
    EXPECT_TRUE(valid_idempotency_key(std::string(255, 'a')));
    EXPECT_FALSE(valid_idempotency_key(""));
    EXPECT_FALSE(valid_idempotency_key(std::string(256, 'a')));
    EXPECT_FALSE(valid_idempotency_key("a b"));
    EXPECT_FALSE(valid_idempotency_key("caf\xC3\xA9"));
}

}  // namespace
}  // namespace tern::api
