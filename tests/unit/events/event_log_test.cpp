// Unit tests of the event log: events numbered and read back in order from a cursor, filtered,
// limited; durable across a restart with a torn last line cut off; segments rolled and the
// oldest removed past the size limit, with reads still finding their place.
#include "events/event_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_files.h"

namespace tern::events {
namespace {

Event event(std::string type, std::string recipient) {
    Event e;
    e.time = 1700000000;
    e.type = std::move(type);
    e.id = "ABC123";
    e.sender = "shop@example.org";
    e.recipient = std::move(recipient);
    e.reply = "250 2.0.0 ok \xff";  // not UTF-8: written as U+FFFD, never refused
    e.attempts = 1;
    return e;
}

EventLogOptions options(const std::string& dir) {
    EventLogOptions o;
    o.dir = dir + "/events";
    o.flush_interval = std::chrono::milliseconds(20);
    return o;
}

std::size_t segment_count(const std::string& dir) {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        n += entry.path().extension() == ".jsonl";
    return n;
}

TEST(EventJson, RoundTrip) {
    Event e = event("deferred", "bob@example.net");
    e.seq = 7;
    e.remote_host = "mx.example.net";
    e.reply = "451 4.7.1 try later";
    e.category = "greylisted";
    auto back = from_json_line(to_json_line(e));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, e);
    EXPECT_FALSE(from_json_line("not json"));
    EXPECT_FALSE(from_json_line("{\"type\": \"x\"}"));
}

TEST(EventFanout, TellsEverySinkInOrder) {
    struct Recording : EventSink {
        std::vector<std::string> seen;
        void record(Event e) override { seen.push_back(e.type + " " + e.recipient); }
    } one, two;
    EventFanout fanout({&one, &two});
    fanout.record(event("bounced", "a@x"));
    fanout.record(event("delivered", "b@x"));
    EXPECT_EQ(one.seen, (std::vector<std::string>{"bounced a@x", "delivered b@x"}));
    EXPECT_EQ(two.seen, one.seen);
    EventFanout none({});
    none.record(event("bounced", "a@x"));  // no sink: nothing to do, no crash
}

TEST(EventLog, NumbersReadsFromACursorAndFilters) {
    testing::TempDir dir;
    auto log = EventLog::open(options(dir.path()));
    ASSERT_TRUE(log) << log.error().message;
    for (int i = 0; i < 10; ++i)
        (*log)->record(event(i % 2 ? "delivered" : "accepted", "r" + std::to_string(i) + "@x"));
    (*log)->flush();
    EXPECT_EQ((*log)->durable(), 10u);
    auto all = (*log)->read(0, 100, nullptr);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->events.size(), 10u);
    for (std::size_t i = 0; i < 10; ++i)
        EXPECT_EQ(all->events[i].seq, i + 1);
    EXPECT_EQ(all->events[3].recipient, "r3@x");
    EXPECT_EQ(all->events[0].reply, "250 2.0.0 ok \xef\xbf\xbd");
    EXPECT_EQ(all->next, 10u);
    auto page = (*log)->read(4, 3, nullptr);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->events.size(), 3u);
    EXPECT_EQ(page->events[0].seq, 5u);
    EXPECT_EQ(page->next, 7u);
    auto delivered = (*log)->read(0, 100, [](const Event& e) { return e.type == "delivered"; });
    ASSERT_TRUE(delivered);
    EXPECT_EQ(delivered->events.size(), 5u);
    EXPECT_EQ(delivered->next, 10u);
    auto none = (*log)->read(10, 100, nullptr);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->events.empty());
    EXPECT_EQ(none->next, 10u);
}

TEST(EventLog, SurvivesARestartAndCutsATornLine) {
    testing::TempDir dir;
    {
        auto log = EventLog::open(options(dir.path()));
        ASSERT_TRUE(log);
        for (int i = 0; i < 5; ++i)
            (*log)->record(event("accepted", "a@x"));
    }  // the destructor writes what is pending
    std::string segment = dir.path() + "/events/00000000000000000001.jsonl";
    std::ofstream(segment, std::ios::app) << "{\"seq\":6,\"time\":1,\"ty";  // a crash mid-write
    auto log = EventLog::open(options(dir.path()));
    ASSERT_TRUE(log) << log.error().message;
    EXPECT_EQ((*log)->durable(), 5u);
    (*log)->record(event("delivered", "a@x"));
    (*log)->flush();
    auto all = (*log)->read(0, 100, nullptr);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->events.size(), 6u);
    EXPECT_EQ(all->events[5].seq, 6u);
    EXPECT_EQ(all->events[5].type, "delivered");
}

TEST(EventLog, RollsSegmentsRemovesTheOldestAndStillFindsItsPlace) {
    testing::TempDir dir;
    auto o = options(dir.path());
    o.segment_size = 8 * 1024;
    o.max_size = 40 * 1024;
    auto log = EventLog::open(o);
    ASSERT_TRUE(log);
    std::uint64_t total = 0;
    for (int round = 0; round < 40; ++round) {
        for (int i = 0; i < 25; ++i)
            (*log)->record(event("delivered", "someone" + std::to_string(total++) + "@x"));
        (*log)->flush();
    }
    EXPECT_EQ((*log)->durable(), total);
    std::size_t segments = segment_count(o.dir);
    EXPECT_GT(segments, 3u);
    std::uintmax_t bytes = 0;
    for (const auto& entry : std::filesystem::directory_iterator(o.dir))
        bytes += entry.file_size();
    EXPECT_LE(bytes, o.max_size + o.segment_size);
    // From the start: the oldest event kept; from any cursor: the next event.
    auto first = (*log)->read(0, 1, nullptr);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->events.size(), 1u);
    std::uint64_t oldest = first->events[0].seq;
    EXPECT_GT(oldest, 1u);
    for (std::uint64_t after = oldest; after < total; after += 37) {
        auto page = (*log)->read(after, 2, nullptr);
        ASSERT_TRUE(page);
        ASSERT_FALSE(page->events.empty()) << after;
        EXPECT_EQ(page->events[0].seq, after + 1) << after;
    }
    auto last = (*log)->read(total - 1, 10, nullptr);
    ASSERT_TRUE(last);
    ASSERT_EQ(last->events.size(), 1u);
    EXPECT_EQ(last->events[0].seq, total);
}

TEST(EventLog, DropsPastMaxPendingInsteadOfBlocking) {
    testing::TempDir dir;
    auto o = options(dir.path());
    o.flush_interval = std::chrono::milliseconds(60000);
    o.max_pending = 3;
    auto log = EventLog::open(o);
    ASSERT_TRUE(log);
    for (int i = 0; i < 5; ++i)
        (*log)->record(event("accepted", "a@x"));
    EXPECT_EQ((*log)->dropped(), 2u);
    (*log)->flush();
    EXPECT_EQ((*log)->durable(), 3u);
}

}  // namespace
}  // namespace tern::events
