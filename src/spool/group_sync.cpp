// GroupSync: batches fdatasync/fsync requests. A batch on one filesystem that would need two
// or more calls is served by one syncfs(2), which costs about as much as one fdatasync;
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

// From this many sync calls on one filesystem (an fdatasync per file, an fsync per directory)
// one syncfs is cheaper: each of those calls commits the filesystem's journal on its own, and
// syncfs commits it once. Measured (bench/, ext4): 2 beats 3 and beats never by a factor of 3.
constexpr std::size_t kSyncfsCalls = 2;

// The sync calls that `requests` would need one by one.
std::size_t calls_needed(const auto& requests) {
    std::size_t calls = 0;
    std::vector<int> dirs;
    for (const auto* r : requests) {
        if (r->fd >= 0) ++calls;
        if (r->dir_fd >= 0 && std::find(dirs.begin(), dirs.end(), r->dir_fd) == dirs.end()) {
            dirs.push_back(r->dir_fd);
            ++calls;
        }
    }
    return calls;
}

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
    add(Request{fd, dir_fd, std::move(done), std::chrono::steady_clock::now()});
}

void GroupSync::submit_within(std::chrono::milliseconds delay, int fd, int dir_fd,
                              std::move_only_function<void(int)> done) {
    add(Request{fd, dir_fd, std::move(done), std::chrono::steady_clock::now() + delay});
}

void GroupSync::add(Request request) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        // The thread sleeps until next_due_ (or for good while nothing is pending): it needs a
        // wake-up only when this request is due earlier. A thread in a round finds the request
        // when the round ends: waking it then would cost a system call for nothing.
        bool earlier = pending_.empty() || request.due < next_due_;
        if (earlier) next_due_ = request.due;
        wake = idle_ && earlier;
        pending_.push_back(std::move(request));
    }
    if (wake) wake_.notify_one();
}

std::size_t GroupSync::rounds() const {
    std::lock_guard lock(mutex_);
    return rounds_;
}

void GroupSync::observe_rounds(RoundObserver observer) {
    auto shared = std::make_shared<const RoundObserver>(std::move(observer));
    std::lock_guard lock(mutex_);
    observer_ = std::move(shared);
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
            // A round starts when its first request is due, and for whatever is left when
            // stopping.
            while (!stopping_) {
                if (!pending_.empty() && std::chrono::steady_clock::now() >= next_due_) break;
                idle_ = true;
                if (pending_.empty())
                    wake_.wait(lock);
                else
                    wake_.wait_until(lock, next_due_);
                idle_ = false;
            }
            if (pending_.empty()) return;  // stopping, with nothing left
            std::size_t n = std::min(max_batch_, pending_.size());
            batch.clear();
            std::move(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n),
                      std::back_inserter(batch));
            pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
            if (!pending_.empty()) {
                next_due_ = pending_.front().due;
                for (const auto& r : pending_)
                    next_due_ = std::min(next_due_, r.due);
            }
        }
        auto started = std::chrono::steady_clock::now();
        std::vector<int> errors = sync_batch(batch);
        std::shared_ptr<const RoundObserver> observer;
        {
            // Counted before the callbacks run, so a caller woken by one sees its round.
            std::lock_guard lock(mutex_);
            ++rounds_;
            served_ += batch.size();
            observer = observer_;
        }
        if (observer) (*observer)(batch.size(), std::chrono::steady_clock::now() - started);
        for (std::size_t i = 0; i < batch.size(); ++i)
            batch[i].done(errors[i]);
        batch.clear();  // the callbacks may hold work guards of event loops: drop them now
    }
}

std::vector<int> GroupSync::sync_batch(std::vector<Request>& batch) {
    std::vector<int> errors(batch.size(), 0);
    if (batch.size() == 1) {
        // One request: no need to ask which filesystem it is on.
        std::vector<Request*> requests{&batch.front()};
        if (calls_needed(requests) < kSyncfsCalls || !sync_whole(requests, errors, batch))
            sync_each(requests, errors, batch);
        return errors;
    }
    // Group by filesystem: syncfs flushes one filesystem only.
    std::map<dev_t, std::vector<Request*>> by_device;
    for (auto& r : batch) {
        struct stat st {};
        int probe = r.fd >= 0 ? r.fd : r.dir_fd;
        if (probe < 0 || fstat(probe, &st) != 0) st.st_dev = 0;
        by_device[st.st_dev].push_back(&r);
    }
    for (auto& [dev, requests] : by_device) {
        if (calls_needed(requests) >= kSyncfsCalls && sync_whole(requests, errors, batch)) continue;
        sync_each(requests, errors, batch);
    }
    return errors;
}

bool GroupSync::sync_whole(std::vector<Request*>& requests, std::vector<int>& errors,
                           const std::vector<Request>& batch) {
    int probe = requests.front()->fd >= 0 ? requests.front()->fd : requests.front()->dir_fd;
    // On failure, which file failed is unknown: the caller syncs each one alone to learn its
    // own outcome.
    if (calls_.syncfs(probe) != 0) return false;
    // syncfs wrote everything, but reports errors only through `probe`: a write error on
    // another file of the round would go unseen. Ask each file.
    for (auto* r : requests) {
        if (r->fd >= 0 && calls_.file_error(r->fd) != 0)
            errors[static_cast<std::size_t>(r - batch.data())] = errno;
    }
    return true;
}

void GroupSync::sync_each(std::vector<Request*>& requests, std::vector<int>& errors,
                          const std::vector<Request>& batch) {
    // Files first, then each directory descriptor once however many requests name it (the
    // spool's requests share its descriptors; two descriptors of one directory cost one more
    // fsync, which a round of one or two requests can afford).
    std::map<int, int> dirs;  // directory descriptor -> errno of its fsync
    for (auto* r : requests) {
        auto& err = errors[static_cast<std::size_t>(r - batch.data())];
        if (r->fd >= 0 && calls_.fdatasync(r->fd) != 0) err = errno;
        if (r->dir_fd < 0) continue;
        auto [it, fresh] = dirs.emplace(r->dir_fd, 0);
        if (fresh && calls_.fsync(r->dir_fd) != 0) it->second = errno;
        if (err == 0) err = it->second;
    }
}

}  // namespace tern::spool
