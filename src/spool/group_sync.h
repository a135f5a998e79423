// GroupSync: one thread that makes files durable for many callers at once (group commit).
// Requests that arrive while a sync runs are served together by the next one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tern::spool {

// The system calls a round makes, behind a seam so that tests can make any of them fail.
struct SyncCalls {
    int (*fdatasync)(int fd);
    int (*fsync)(int fd);
    int (*syncfs)(int fd);
    // After a syncfs: the writeback error of this one file since it was last checked (its own
    // errseq), without writing anything; 0 when none. syncfs reports errors through the one
    // descriptor it is given, so each file of the round is asked here.
    int (*file_error)(int fd);
};
SyncCalls system_sync_calls();

class GroupSync {
  public:
    // `max_batch` bounds the requests served by one round.
    explicit GroupSync(std::size_t max_batch, SyncCalls calls = system_sync_calls());
    ~GroupSync();  // finishes queued requests, then joins the thread
    GroupSync(const GroupSync&) = delete;
    GroupSync& operator=(const GroupSync&) = delete;

    // Makes the data of `fd` and the entries of directory `dir_fd` durable (either may be -1),
    // then calls `done(errno or 0)` on the sync thread. Both descriptors must stay open until then.
    void submit(int fd, int dir_fd, std::move_only_function<void(int)> done);

    // The same for a request that may wait up to `delay` for a round: it starts no round of its
    // own before then, but joins any round that starts earlier, so that a busy spool makes it
    // durable with rounds it runs anyway (a delivery's files, with the next commit's round).
    void submit_within(std::chrono::milliseconds delay, int fd, int dir_fd,
                       std::move_only_function<void(int)> done);
    // For requests nobody waits on (the removal of finished messages).
    void submit_lazy(int fd, int dir_fd, std::move_only_function<void(int)> done) {
        submit_within(kLazyDelay, fd, dir_fd, std::move(done));
    }
    static constexpr std::chrono::milliseconds kLazyDelay{50};

    // Rounds run and requests served, for metrics and benchmarks.
    std::size_t rounds() const;
    std::size_t served() const;

    // Called on the sync thread after each round with its number of requests and the time its
    // sync calls took (for /metrics); replaces an earlier observer.
    using RoundObserver = std::function<void(std::size_t requests, std::chrono::nanoseconds took)>;
    void observe_rounds(RoundObserver observer);

  private:
    struct Request {
        int fd;
        int dir_fd;
        std::move_only_function<void(int)> done;
        std::chrono::steady_clock::time_point due{};  // a round must start by then
    };
    void add(Request request);
    void run();
    // Syncs every request of the batch; returns each one's errno (0 = durable).
    std::vector<int> sync_batch(std::vector<Request>& batch);
    void sync_each(std::vector<Request*>& requests, std::vector<int>& errors,
                   const std::vector<Request>& batch);
    // One syncfs for requests on one filesystem; false when it failed (nothing is known then).
    bool sync_whole(std::vector<Request*>& requests, std::vector<int>& errors,
                    const std::vector<Request>& batch);

    SyncCalls calls_;
    std::size_t max_batch_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Request> pending_;
    bool stopping_ = false;
    bool idle_ = false;  // the thread waits for requests (and needs a wake-up)
    // The earliest `due` in pending_ (meaningless while it is empty).
    std::chrono::steady_clock::time_point next_due_{};
    std::size_t rounds_ = 0;
    std::size_t served_ = 0;
    std::shared_ptr<const RoundObserver> observer_;
    std::thread thread_;
};

}  // namespace tern::spool
