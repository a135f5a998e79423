// StorePool: a few worker threads, each with its own AccountStore connection, that run the
// blocking account lookups and password hashing away from the event loops.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/account_store.h"
#include "base/error.h"

namespace tern::auth {

struct StorePoolOptions {
    std::string database;           // path of the SQLite file
    HashOptions hashing;            // costs for the dummy hash of unknown accounts
    std::size_t threads = 2;        // worker threads, one SQLite connection each
    std::size_t max_queued = 1024;  // jobs waiting for a worker; more are refused at once
};

// SQLite connections: one per worker thread, opened on the worker's first job, kept until the
// pool is destroyed and reopened only after a failed open; never shared, so no SQLite mutex is
// needed (SQLITE_OPEN_NOMUTEX). The database file is created, when absent, by the constructor
// before any worker runs; the workers only connect through SQLite, so no worker can drop the
// file locks another worker's connection holds.
class StorePool {
  public:
    // The job gets the worker's store, or the error that stands in for it: the database could
    // not be opened (kIo), the queue was full (kTemporary), or the pool is stopping (kShutdown).
    using Job = std::move_only_function<void(Result<AccountStore*>)>;

    explicit StorePool(StorePoolOptions options);
    ~StorePool();  // queued jobs get kShutdown; running jobs finish; then the threads are joined
    StorePool(const StorePool&) = delete;
    StorePool& operator=(const StorePool&) = delete;

    // Queues `job` for a worker. When max_queued jobs wait already, or the pool is stopping,
    // `job` runs at once on the calling thread with the error instead: it must then only
    // report, never block.
    void submit(Job job);

    // Jobs waiting for a worker now.
    std::size_t queued() const;

  private:
    void run();

    StorePoolOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace tern::auth
