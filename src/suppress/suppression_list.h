// SuppressionList: the daemon's suppression list. One worker thread with its own connection to
// the SQLite file runs every read and write, so an event loop never waits for SQLite; callers
// co_await lookups, and automatic additions (hard bounces) are queued and forgotten.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "base/async_job.h"
#include "suppress/suppression_db.h"

namespace tern::suppress {

class SuppressionList {
  public:
    // The job gets the worker's database, or why there is none: it could not be opened (kIo,
    // tried again at the next job), the queue was full (kTemporary), the list is stopping
    // (kShutdown).
    using Job = std::move_only_function<void(Result<SuppressionDb*>)>;

    explicit SuppressionList(std::string path, std::size_t max_queued = 4096);
    ~SuppressionList();  // queued jobs get kShutdown; the running one finishes
    SuppressionList(const SuppressionList&) = delete;
    SuppressionList& operator=(const SuppressionList&) = delete;

    // Queues `job`; when the queue is full or the list stopping, runs it at once on the calling
    // thread with the error instead (it must then only report, never block).
    void submit(Job job);

    // Runs `work(Result<SuppressionDb*>) -> T` on the worker and completes with the T on the
    // caller's executor; never inline.
    template <class T, class Work, class Token>
    auto async_run(Work work, Token&& token) {
        return async_job<T, Result<SuppressionDb*>>([this](Job job) { submit(std::move(job)); },
                                                    std::move(work), std::forward<Token>(token));
    }

    // Returns once every job queued before the call has run.
    void wait_idle();

    const std::string& path() const { return path_; }

  private:
    void run();

    std::string path_;
    std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tern::suppress
