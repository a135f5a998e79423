// DbWorker<Db>: one worker thread with its own connection to a database file (Db::open(path)),
// running every read and write of the daemon's users of that file, so that an event loop never
// waits for SQLite. Callers co_await async_run(); fire-and-forget writes submit() a job. Used by
// the suppression list and the sending API's idempotency keys.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "base/async_job.h"
#include "base/error.h"

namespace tern {

template <class Db>
class DbWorker {
  public:
    // The job gets the worker's database, or why there is none: it could not be opened (kIo,
    // tried again at the next job), the queue was full (kTemporary), the worker is stopping
    // (kShutdown).
    using Job = std::move_only_function<void(Result<Db*>)>;

    explicit DbWorker(std::string path, std::size_t max_queued = 4096)
        : path_(std::move(path)), max_queued_(max_queued), thread_([this] { run(); }) {}

    // Queued jobs get kShutdown; the running one finishes.
    ~DbWorker() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    DbWorker(const DbWorker&) = delete;
    DbWorker& operator=(const DbWorker&) = delete;

    // Queues `job`; when the queue is full or the worker stopping, runs it at once on the
    // calling thread with the error instead (it must then only report, never block).
    void submit(Job job) {
        std::unique_lock lock(mutex_);
        if (stopping_ || jobs_.size() >= max_queued_) {
            bool stopping = stopping_;
            lock.unlock();
            job(stopping ? fail(ErrorCode::kShutdown, path_ + ": stopping")
                         : fail(ErrorCode::kTemporary, path_ + ": too many jobs waiting"));
            return;
        }
        jobs_.push_back(std::move(job));
        lock.unlock();
        wake_.notify_one();
    }

    // Runs `work(Result<Db*>) -> T` on the worker and completes with the T on the caller's
    // executor; never inline.
    template <class T, class Work, class Token>
    auto async_run(Work work, Token&& token) {
        return async_job<T, Result<Db*>>([this](Job job) { submit(std::move(job)); },
                                         std::move(work), std::forward<Token>(token));
    }

    // Returns once every job queued before the call has run (one worker takes jobs in order).
    void wait_idle() {
        std::promise<void> done;
        submit([&done](Result<Db*>) { done.set_value(); });
        done.get_future().wait();
    }

    // Whether the worker can open (or has) its database: waits for a job to run and returns
    // the error it got, if any. For start-up, once privileges are given up.
    Result<void> check() {
        std::promise<Result<void>> opened;
        submit([&opened](Result<Db*> db) {
            opened.set_value(db ? Result<void>{} : Result<void>(std::unexpected(db.error())));
        });
        return opened.get_future().get();
    }

    const std::string& path() const { return path_; }

  private:
    void run() {
        std::unique_ptr<Db> db;
        while (true) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            Job job = std::move(jobs_.front());
            jobs_.pop_front();
            bool stopping = stopping_;
            lock.unlock();
            if (stopping) {
                job(fail(ErrorCode::kShutdown, path_ + ": stopping"));
                continue;
            }
            if (!db) {
                auto opened = Db::open(path_);
                if (!opened) {
                    job(std::unexpected(opened.error()));
                    continue;
                }
                db = std::move(*opened);
            }
            job(db.get());
        }
    }

    std::string path_;
    std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread thread_;  // last: started once the members it uses are made
};

}  // namespace tern
