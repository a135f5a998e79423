// SuppressionList's worker: takes a job, opens the database when it has none (again after a
// failure), runs the job. On stop, the jobs still queued are told kShutdown.
#include "suppress/suppression_list.h"

#include <future>

namespace tern::suppress {

SuppressionList::SuppressionList(std::string path, std::size_t max_queued)
    : path_(std::move(path)), max_queued_(max_queued), thread_([this] { run(); }) {}

SuppressionList::~SuppressionList() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void SuppressionList::submit(Job job) {
    std::unique_lock lock(mutex_);
    if (stopping_ || jobs_.size() >= max_queued_) {
        bool stopping = stopping_;
        lock.unlock();
        job(stopping ? fail(ErrorCode::kShutdown, "the suppression list is stopping")
                     : fail(ErrorCode::kTemporary, "too many suppression list jobs waiting"));
        return;
    }
    jobs_.push_back(std::move(job));
    lock.unlock();
    wake_.notify_one();
}

void SuppressionList::wait_idle() {
    // One worker takes jobs in order: when this one runs, the earlier ones have.
    std::promise<void> done;
    submit([&done](Result<SuppressionDb*>) { done.set_value(); });
    done.get_future().wait();
}

void SuppressionList::run() {
    std::unique_ptr<SuppressionDb> db;
    while (true) {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        bool stopping = stopping_;
        lock.unlock();
        if (stopping) {
            job(fail(ErrorCode::kShutdown, "the suppression list is stopping"));
            continue;
        }
        if (!db) {
            auto opened = SuppressionDb::open(path_);
            if (!opened) {
                job(std::unexpected(opened.error()));
                continue;
            }
            db = std::move(*opened);
        }
        job(db.get());
    }
}

}  // namespace tern::suppress
