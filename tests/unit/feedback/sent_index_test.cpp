// SentDb: rows added in a batch, found again by queue id, replaced, purged after the retention,
// kept across connections (a restart); the worker reaches it from another thread.
#include "feedback/sent_index.h"

#include <gtest/gtest.h>

#include <future>

#include "test_files.h"

namespace tern::feedback {
namespace {

TEST(SentDb, AddFindReplacePurge) {
    testing::TempDir dir;
    std::string path = dir.path() + "/sent.sqlite";
    {
        auto db = SentDb::open(path);
        ASSERT_TRUE(db) << db.error().message;
        ASSERT_TRUE((*db)->add(
            {{"A1", "news@shop.example", "http", "shop", 1000, {"a@x.example", "B@y.example"}},
             {"A2", "news@shop.example", "http", "shop", 1000, {}}},
            1000, 86400));
        auto found = (*db)->find("A1");
        ASSERT_TRUE(found && *found);
        EXPECT_EQ(
            **found,
            (SentOrigin{
                "A1", "news@shop.example", "http", "shop", 1000, {"a@x.example", "B@y.example"}}));
        auto none = (*db)->find("ZZ");
        ASSERT_TRUE(none);
        EXPECT_FALSE(*none);
        ASSERT_TRUE((*db)->add(
            {{"A1", "other@shop.example", "http", "admin", 2000, {"c@z.example"}}}, 2000, 86400));
        EXPECT_EQ((*(*db)->find("A1"))->auth, "admin");
        EXPECT_EQ((*(*db)->find("A1"))->recipients, std::vector<std::string>{"c@z.example"});
    }
    // Another connection (a restart) finds them; the first add of a run purges old rows.
    auto db = SentDb::open(path);
    ASSERT_TRUE(db);
    EXPECT_TRUE(*(*db)->find("A2"));
    ASSERT_TRUE((*db)->add({{"B1", "x@y.example", "http", "k", 100000, {}}}, 100000, 86400));
    EXPECT_FALSE(*(*db)->find("A2"));
    EXPECT_TRUE(*(*db)->find("B1"));
}

TEST(SentIndex, WorkerThread) {
    testing::TempDir dir;
    SentIndex index(dir.path() + "/sent.sqlite");
    ASSERT_TRUE(index.check());
    index.submit([](Result<SentDb*> db) {
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->add({{"C1", "s@e.example", "http", "k", 5, {}}}, 5, 86400));
    });
    std::promise<std::string> auth;
    index.submit([&auth](Result<SentDb*> db) {
        auto found = db ? (*db)->find("C1") : Result<std::optional<SentOrigin>>();
        auth.set_value(found && *found ? (*found)->auth : "");
    });
    EXPECT_EQ(auth.get_future().get(), "k");
}

}  // namespace
}  // namespace tern::feedback
