// StorePool workers: take a job, open the worker's connection if needed, run the job. On stop,
// the jobs still queued are told kShutdown so that every waiting caller gets its completion.
#include "auth/store_pool.h"

namespace tern::auth {

StorePool::StorePool(StorePoolOptions options) : options_(std::move(options)) {
    // Before any worker connects (see AccountStore::create_file). A failure here shows as the
    // workers' failure to open, which they report with each job and retry.
    (void)AccountStore::create_file(options_.database);
    std::size_t n = options_.threads == 0 ? 1 : options_.threads;
    for (std::size_t i = 0; i < n; ++i)
        threads_.emplace_back([this] { run(); });
}

StorePool::~StorePool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_)
        t.join();
}

void StorePool::submit(Job job) {
    std::unique_lock lock(mutex_);
    if (stopping_ || jobs_.size() >= options_.max_queued) {
        bool stopping = stopping_;
        lock.unlock();
        job(stopping ? fail(ErrorCode::kShutdown, "the account store is stopping")
                     : fail(ErrorCode::kTemporary, "too many authentications waiting"));
        return;
    }
    jobs_.push_back(std::move(job));
    lock.unlock();
    wake_.notify_one();
}

std::size_t StorePool::queued() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
}

void StorePool::run() {
    std::unique_ptr<AccountStore> store;
    while (true) {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        bool stopping = stopping_;
        lock.unlock();
        if (stopping) {
            job(fail(ErrorCode::kShutdown, "the account store is stopping"));
            continue;
        }
        if (!store) {
            auto opened = AccountStore::open(options_.database, options_.hashing);
            if (!opened) {
                job(std::unexpected(opened.error()));
                continue;
            }
            store = std::move(*opened);
        }
        job(store.get());
    }
}

}  // namespace tern::auth
