// GroupSync: batches fdatasync/fsync requests. A batch on one filesystem larger than a few
// files is served by one syncfs(2), which costs about as much as one fdatasync of one file;
// each file's own error state is then checked, and a failed syncfs falls back to one sync per
// file so that every request learns its own outcome.
#include "spool/group_sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

namespace tern::spool {
namespace {

// Below this many requests on one filesystem, per-file fdatasync is cheaper than syncfs.
constexpr std::size_t kSyncfsThreshold = 3;

int file_error(int fd) {
    // WAIT_AFTER alone writes nothing: it waits for writeback under way (none after syncfs)
    // and returns the file's unseen writeback error (file_check_and_advance_wb_err).
    return ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_AFTER);
}

}  // namespace

SyncCalls system_sync_calls() {
    return SyncCalls{::fdatasync, ::fsync, ::syncfs, file_error};
}

GroupSync::GroupSync(std::size_t max_batch, SyncCalls calls)
    : calls_(calls), max_batch_(std::max<std::size_t>(1, max_batch)), thread_([this] { run(); }) {}

GroupSync::~GroupSync() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void GroupSync::submit(int fd, int dir_fd, std::move_only_function<void(int)> done) {
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(Request{fd, dir_fd, std::move(done)});
    }
    wake_.notify_one();
}

std::size_t GroupSync::rounds() const {
    std::lock_guard lock(mutex_);
    return rounds_;
}

std::size_t GroupSync::served() const {
    std::lock_guard lock(mutex_);
    return served_;
}

void GroupSync::run() {
    std::vector<Request> batch;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (pending_.empty() && stopping_) return;
            std::size_t n = std::min(max_batch_, pending_.size());
            batch.clear();
            std::move(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n),
                      std::back_inserter(batch));
            pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        }
        std::vector<int> errors = sync_batch(batch);
        {
            // Counted before the callbacks run, so a caller woken by one sees its round.
            std::lock_guard lock(mutex_);
            ++rounds_;
            served_ += batch.size();
        }
        for (std::size_t i = 0; i < batch.size(); ++i)
            batch[i].done(errors[i]);
        batch.clear();  // the callbacks may hold work guards of event loops: drop them now
    }
}

std::vector<int> GroupSync::sync_batch(std::vector<Request>& batch) {
    // Group by filesystem: syncfs flushes one filesystem only.
    std::map<dev_t, std::vector<Request*>> by_device;
    std::vector<int> errors(batch.size(), 0);
    for (auto& r : batch) {
        struct stat st {};
        int probe = r.fd >= 0 ? r.fd : r.dir_fd;
        if (probe < 0 || fstat(probe, &st) != 0) st.st_dev = 0;
        by_device[st.st_dev].push_back(&r);
    }
    for (auto& [dev, requests] : by_device) {
        if (requests.size() >= kSyncfsThreshold) {
            int probe = requests.front()->fd >= 0 ? requests.front()->fd : requests.front()->dir_fd;
            if (calls_.syncfs(probe) == 0) {
                // syncfs wrote everything, but reports errors only through `probe`: a write
                // error on another file of the round would go unseen. Ask each file.
                for (auto* r : requests) {
                    if (r->fd >= 0 && calls_.file_error(r->fd) != 0)
                        errors[static_cast<std::size_t>(r - batch.data())] = errno;
                }
                continue;
            }
            // Which file failed is unknown: sync each one alone to learn its own outcome.
        }
        sync_each(requests, errors, batch);
    }
    return errors;
}

void GroupSync::sync_each(std::vector<Request*>& requests, std::vector<int>& errors,
                          const std::vector<Request>& batch) {
    // Files first, then each directory once however many requests name it.
    std::map<std::pair<dev_t, ino_t>, int> dirs;  // directory -> errno of its fsync
    for (auto* r : requests) {
        auto& err = errors[static_cast<std::size_t>(r - batch.data())];
        if (r->fd >= 0 && calls_.fdatasync(r->fd) != 0) err = errno;
        if (r->dir_fd < 0) continue;
        struct stat st {};
        if (fstat(r->dir_fd, &st) != 0) {
            err = err ? err : errno;
            continue;
        }
        auto [it, fresh] = dirs.emplace(std::pair{st.st_dev, st.st_ino}, 0);
        if (fresh && calls_.fsync(r->dir_fd) != 0) it->second = errno;
        if (err == 0) err = it->second;
    }
}

}  // namespace tern::spool
