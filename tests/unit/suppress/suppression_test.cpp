// The suppression list: the SQLite file (entries, tenants before the global list, replace or
// keep, paging, two connections at once, the file's mode, a file that is not a list), the
// worker thread's async lookups, and the feed that adds hard bounces only.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <future>

#include "log/logger.h"
#include "suppress/suppression_db.h"
#include "suppress/suppression_feed.h"
#include "suppress/suppression_list.h"
#include "test_async.h"
#include "test_files.h"

namespace tern::suppress {
namespace {

Suppression entry(std::string address, Reason reason = Reason::kManual, std::string tenant = "") {
    return {std::move(tenant), std::move(address), reason, "why", "test", 1700000000};
}

TEST(SuppressionDb, AddFindRemove) {
    testing::TempDir dir;
    auto db = SuppressionDb::open(dir.path() + "/s.sqlite");
    ASSERT_TRUE(db) << db.error().message;
    auto added = (*db)->add({entry("a@example.org"), entry("b@example.org")}, false);
    ASSERT_TRUE(added);
    EXPECT_EQ(*added, 2u);
    auto found = (*db)->find("", {"a@example.org", "c@example.org", "b@example.org"});
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 3u);
    ASSERT_TRUE((*found)[0]);
    EXPECT_EQ(*(*found)[0], entry("a@example.org"));
    EXPECT_FALSE((*found)[1]);
    EXPECT_TRUE((*found)[2]);
    auto removed = (*db)->remove("", "a@example.org");
    ASSERT_TRUE(removed);
    EXPECT_TRUE(*removed);
    removed = (*db)->remove("", "a@example.org");
    ASSERT_TRUE(removed);
    EXPECT_FALSE(*removed);
    EXPECT_EQ(*(*db)->count(), 1u);
}

TEST(SuppressionDb, AnUnsubscribeIsNotTurnedIntoABounceUnlessReplaced) {
    testing::TempDir dir;
    auto db = SuppressionDb::open(dir.path() + "/s.sqlite");
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->add({entry("a@example.org", Reason::kUnsubscribe)}, false));
    auto again = (*db)->add({entry("a@example.org", Reason::kBounce)}, false);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0u);
    EXPECT_EQ((*(*db)->find("", {"a@example.org"}))[0]->reason, Reason::kUnsubscribe);
    auto replaced = (*db)->add({entry("a@example.org", Reason::kComplaint)}, true);
    ASSERT_TRUE(replaced);
    EXPECT_EQ(*replaced, 0u);
    EXPECT_EQ((*(*db)->find("", {"a@example.org"}))[0]->reason, Reason::kComplaint);
}

TEST(SuppressionDb, ATenantsEntryComesBeforeTheGlobalOne) {
    testing::TempDir dir;
    auto db = SuppressionDb::open(dir.path() + "/s.sqlite");
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->add({entry("a@example.org", Reason::kBounce),
                            entry("a@example.org", Reason::kUnsubscribe, "shop"),
                            entry("b@example.org", Reason::kUnsubscribe, "shop")},
                           false));
    auto shop = (*db)->find("shop", {"a@example.org", "b@example.org"});
    ASSERT_TRUE(shop);
    EXPECT_EQ((*shop)[0]->tenant, "shop");
    EXPECT_EQ((*shop)[0]->reason, Reason::kUnsubscribe);
    EXPECT_TRUE((*shop)[1]);
    auto other = (*db)->find("other", {"a@example.org", "b@example.org"});
    ASSERT_TRUE(other);
    EXPECT_EQ((*other)[0]->tenant, "");
    EXPECT_FALSE((*other)[1]);  // another tenant's unsubscribe is not ours
    auto global = (*db)->find("", {"b@example.org"});
    EXPECT_FALSE((*global)[0]);
}

TEST(SuppressionDb, ListsInPages) {
    testing::TempDir dir;
    auto db = SuppressionDb::open(dir.path() + "/s.sqlite");
    ASSERT_TRUE(db);
    std::vector<Suppression> many;
    for (int i = 0; i < 25; ++i)
        many.push_back(entry("u" + std::to_string(100 + i) + "@example.org"));
    many.push_back(entry("z@example.org", Reason::kManual, "shop"));
    ASSERT_TRUE((*db)->add(many, false));
    std::vector<std::string> seen;
    std::string after_tenant, after_address;
    while (true) {
        auto page = (*db)->list(std::nullopt, after_tenant, after_address, 10);
        ASSERT_TRUE(page);
        for (const auto& s : *page)
            seen.push_back(s.tenant + "/" + s.address);
        if (page->size() < 10) break;
        after_tenant = page->back().tenant;
        after_address = page->back().address;
    }
    ASSERT_EQ(seen.size(), 26u);
    EXPECT_EQ(seen.front(), "/u100@example.org");
    EXPECT_EQ(seen.back(), "shop/z@example.org");
    auto shop = (*db)->list(std::string("shop"), "", "", 10);
    ASSERT_TRUE(shop);
    ASSERT_EQ(shop->size(), 1u);
    auto global = (*db)->list(std::string(""), "", "u120@example.org", 10);
    ASSERT_TRUE(global);
    EXPECT_EQ(global->size(), 4u);
}

TEST(SuppressionDb, TwoConnectionsSeeEachOthersChanges) {
    testing::TempDir dir;
    std::string path = dir.path() + "/sub/s.sqlite";
    auto one = SuppressionDb::open(path);
    auto two = SuppressionDb::open(path);
    ASSERT_TRUE(one && two);
    ASSERT_TRUE((*one)->add({entry("a@example.org")}, false));
    EXPECT_TRUE((*(*two)->find("", {"a@example.org"}))[0]);
    ASSERT_TRUE((*two)->remove("", "a@example.org"));
    EXPECT_FALSE((*(*one)->find("", {"a@example.org"}))[0]);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SuppressionDb, AFileThatIsNotAListIsRefused) {
    testing::TempDir dir;
    std::string path = dir.path() + "/s.sqlite";
    std::ofstream(path) << "not a database at all, but long enough to be looked at as one....";
    EXPECT_FALSE(SuppressionDb::open(path));
}

TEST(Suppression, NormalizedAndNamed) {
    EXPECT_EQ(normalize_address("Bob.Smith@Example.ORG"), "bob.smith@example.org");
    EXPECT_EQ(normalize_address("J\xC3\x96rg@example.org"), "j\xC3\x96rg@example.org");
    EXPECT_EQ(normalize_address("\"Bob\"@example.org"), "bob@example.org");
    EXPECT_EQ(normalize_address("\"b\\ob\"@example.org"), "bob@example.org");
    EXPECT_EQ(normalize_address("\"bob smith\"@example.org"), "\"bob smith\"@example.org");
    EXPECT_EQ(normalize_address("\"a..b\"@example.org"), "\"a..b\"@example.org");
    EXPECT_EQ(normalize_address("bob@B\xC3\xBC"
                                "cher.Example"),
              "bob@xn--bcher-kva.example");
    EXPECT_EQ(normalize_address("bob@[192.0.2.1]"), "bob@[192.0.2.1]");
    for (auto r : {Reason::kBounce, Reason::kComplaint, Reason::kUnsubscribe, Reason::kManual})
        EXPECT_EQ(parse_reason(reason_name(r)), r);
    EXPECT_FALSE(parse_reason("spam"));
    EXPECT_TRUE(valid_tenant("shop-1.eu_x"));
    EXPECT_FALSE(valid_tenant(""));
    EXPECT_FALSE(valid_tenant("a b"));
    EXPECT_FALSE(valid_tenant(std::string(65, 'a')));
}

TEST(SuppressionList, LooksUpOnItsWorkerAndCompletesOnTheCaller) {
    testing::TempDir dir;
    SuppressionList list(dir.path() + "/s.sqlite");
    auto found = testing::run_until_done([&]() -> boost::asio::awaitable<bool> {
        using Found = Result<std::vector<std::optional<Suppression>>>;
        auto added = co_await list.async_run<Result<std::size_t>>(
            [](Result<SuppressionDb*> db) {
                return db ? (*db)->add({entry("a@example.org")}, false)
                          : Result<std::size_t>(std::unexpected(db.error()));
            },
            boost::asio::use_awaitable);
        if (!added) co_return false;
        auto f = co_await list.async_run<Found>(
            [](Result<SuppressionDb*> db) {
                return db ? (*db)->find("", {"a@example.org"}) : Found(std::unexpected(db.error()));
            },
            boost::asio::use_awaitable);
        co_return f && (*f)[0].has_value();
    }());
    EXPECT_TRUE(found);
}

TEST(SuppressionList, AFileThatCannotBeOpenedIsReportedToEachJob) {
    testing::TempDir dir;
    std::string blocker = dir.path() + "/file";
    std::ofstream(blocker) << "x";
    SuppressionList list(blocker + "/s.sqlite");  // under a file: cannot be made
    std::promise<std::string> why;
    list.submit([&why](Result<SuppressionDb*> db) { why.set_value(db ? "" : db.error().message); });
    EXPECT_NE(why.get_future().get(), "");
}

TEST(SuppressionFeed, AddsHardBouncesOnly) {
    testing::TempDir dir;
    std::string path = dir.path() + "/s.sqlite";
    log::Logger log{log::Format::kText, log::Level::kError};
    {
        SuppressionList list(path);
        SuppressionFeed feed(list, {"invalid_recipient", "invalid_domain"}, false, log);
        auto event = [](std::string type, std::string to, std::string category) {
            events::Event e;
            e.type = std::move(type);
            e.recipient = std::move(to);
            e.category = std::move(category);
            e.reply = "550 5.1.1 no such user";
            e.time = 1700000000;
            return e;
        };
        feed.record(event("bounced", "Gone@Example.org", "invalid_recipient"));
        feed.record(event("bounced", "full@example.org", "mailbox_full"));
        feed.record(event("bounced", "blocked@example.org", "reputation_block"));
        feed.record(event("deferred", "later@example.org", "invalid_recipient"));
        feed.record(event("expired", "old@example.org", "invalid_recipient"));
        feed.record(event("bounced", "x@nowhere.example", "invalid_domain"));
        list.wait_idle();
    }
    auto db = SuppressionDb::open(path);
    ASSERT_TRUE(db);
    auto all = (*db)->list(std::nullopt, "", "", 100);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].address, "gone@example.org");
    EXPECT_EQ((*all)[0].reason, Reason::kBounce);
    EXPECT_EQ((*all)[0].source, "tern");
    EXPECT_EQ((*all)[0].detail, "invalid_recipient: 550 5.1.1 no such user");
    EXPECT_EQ((*all)[1].address, "x@nowhere.example");
}

TEST(SuppressionFeed, AddsComplaintsWhenAsked) {
    testing::TempDir dir;
    log::Logger log{log::Format::kText, log::Level::kError};
    auto complaint = [](std::string to) {
        events::Event e;
        e.type = "complained";
        e.recipient = std::move(to);
        e.category = "abuse";
        e.remote_host = "mta.example.net";
        e.report = "complaint";
        e.time = 1700000000;
        return e;
    };
    for (bool on : {true, false}) {
        std::string path = dir.path() + (on ? "/on.sqlite" : "/off.sqlite");
        {
            SuppressionList list(path);
            SuppressionFeed feed(list, {"invalid_recipient"}, on, log);
            feed.record(complaint("Angry@Example.org"));
            list.wait_idle();
        }
        auto db = SuppressionDb::open(path);
        ASSERT_TRUE(db);
        auto all = (*db)->list(std::nullopt, "", "", 100);
        ASSERT_TRUE(all);
        if (!on) {
            EXPECT_TRUE(all->empty());
            continue;
        }
        ASSERT_EQ(all->size(), 1u);
        EXPECT_EQ((*all)[0].address, "angry@example.org");
        EXPECT_EQ((*all)[0].reason, Reason::kComplaint);
        EXPECT_EQ((*all)[0].detail, "abuse from mta.example.net");
    }
}

}  // namespace
}  // namespace tern::suppress
