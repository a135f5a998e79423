// EventLog: the durable event log in <data_dir>/events (docs/events.md). Events are taken at once
// from any thread (a lock and a move) and written by a thread of their own, which turns them into
// JSON lines, in rounds (write, fdatasync) every
// flush interval, so that delivery never waits on it; a reader sees the events of finished
// rounds. Segment files of JSON lines named by their first seq; the oldest are removed past a
// total size; a torn last line (a crash mid-write) is cut off at start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "events/event.h"

namespace tern::events {

struct EventLogOptions {
    std::string dir;                                 // <data_dir>/events
    std::uint64_t segment_size = 64 * 1024 * 1024;   // a new segment past this many octets
    std::uint64_t max_size = 1024ull * 1024 * 1024;  // oldest segments removed past this total
    std::chrono::milliseconds flush_interval{1000};  // how long an event waits for its round
    std::size_t max_pending = 1'000'000;             // events waiting; more are dropped (logged)
};

class EventLog : public EventSink {
  public:
    // Opens (or makes) the directory, recovers the last segment, starts the writer thread.
    static Result<std::unique_ptr<EventLog>> open(EventLogOptions options);
    ~EventLog() override;  // writes what is pending, then stops
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    void record(Event e) override;

    struct Page {
        std::vector<Event> events;
        std::uint64_t next = 0;  // the cursor to read on from: the last seq looked at
    };
    // Up to `limit` durable events with seq > `after` that `keep` accepts, oldest first, looking
    // at no more than `max_scan` events; fewer when the durable ones end. Events removed by the
    // size limit are skipped over.
    Result<Page> read(std::uint64_t after, std::size_t limit,
                      const std::function<bool(const Event&)>& keep,
                      std::size_t max_scan = 100000) const;

    // The seq of the last durable event (0: none yet).
    std::uint64_t durable() const { return durable_.load(); }
    // Events dropped because the writer fell `max_pending` behind, and write errors seen.
    std::uint64_t dropped() const { return dropped_.load(); }
    std::string last_error() const;

    // Writes what is pending now and waits for it (tests; shutdown).
    void flush();

  private:
    explicit EventLog(EventLogOptions options) : options_(std::move(options)) {}
    Result<void> recover();
    void run();
    Result<void> write_round(const std::vector<Event>& events);
    Result<void> open_segment(std::uint64_t first);
    void trim();

    EventLogOptions options_;
    mutable std::mutex mutex_;  // pending_, next_seq_, error_, stop_, flushed rounds
    std::condition_variable wake_;
    std::condition_variable flushed_;
    std::vector<Event> pending_;  // serialised by the writer, off the caller's thread
    std::uint64_t next_seq_ = 1;
    std::uint64_t rounds_ = 0;  // rounds finished
    bool stop_ = false;
    bool flush_now_ = false;
    std::string error_;
    std::atomic<std::uint64_t> durable_{0};
    std::atomic<std::uint64_t> dropped_{0};
    UniqueFd segment_;  // the segment written now (writer thread only after open)
    std::uint64_t segment_bytes_ = 0;
    std::thread writer_;
};

}  // namespace tern::events
