// GroupSync under injected failures: each request must learn its own file's outcome, whether
// the round used one syncfs (a write error on another file of the round) or one sync per file.
#include "spool/group_sync.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <vector>

namespace tern::spool {
namespace {

// The descriptor whose writeback "failed", and whether syncfs itself fails.
std::atomic<int> g_bad_fd{-1};
std::atomic<bool> g_syncfs_fails{false};
std::atomic<int> g_syncfs_calls{0};
std::atomic<int> g_fdatasync_calls{0};

int fake_fdatasync(int fd) {
    ++g_fdatasync_calls;
    if (fd == g_bad_fd) {
        errno = EIO;
        return -1;
    }
    return 0;
}
int fake_fsync(int) {
    return 0;
}
int fake_syncfs(int) {
    ++g_syncfs_calls;
    if (g_syncfs_fails) {
        errno = EIO;
        return -1;
    }
    return 0;  // reports nothing about the other files of the round, as the kernel may not
}
int fake_file_error(int fd) {
    if (fd == g_bad_fd) {
        errno = EIO;
        return -1;
    }
    return 0;
}

class GroupSyncFaults : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/tern-gsync-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        for (int i = 0; i < 6; ++i) {
            int fd = ::open((dir_ + "/f" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY, 0600);
            ASSERT_GE(fd, 0);
            fds_.push_back(fd);
        }
        g_syncfs_calls = 0;
        g_fdatasync_calls = 0;
        g_syncfs_fails = false;
        g_bad_fd = fds_[3];
    }
    void TearDown() override {
        for (int fd : fds_)
            ::close(fd);
        std::filesystem::remove_all(dir_);
    }
    // Submits every file in one round (the first request holds the thread until all are in)
    // and returns each request's errno.
    std::vector<int> round() {
        GroupSync sync(64, SyncCalls{fake_fdatasync, fake_fsync, fake_syncfs, fake_file_error});
        std::vector<std::promise<int>> results(fds_.size());
        std::promise<void> submitted;
        auto gate = submitted.get_future().share();
        sync.submit(-1, -1, [gate](int) { gate.wait(); });
        for (std::size_t i = 0; i < fds_.size(); ++i)
            sync.submit(fds_[i], -1, [&results, i](int err) { results[i].set_value(err); });
        submitted.set_value();
        std::vector<int> errors;
        for (auto& r : results)
            errors.push_back(r.get_future().get());
        return errors;
    }

    std::string dir_;
    std::vector<int> fds_;
};

TEST_F(GroupSyncFaults, AWriteErrorOfOneFileInASyncfsRoundReachesThatFileOnly) {
    auto errors = round();
    EXPECT_GE(g_syncfs_calls.load(), 1);
    for (std::size_t i = 0; i < errors.size(); ++i)
        EXPECT_EQ(errors[i], i == 3 ? EIO : 0) << i;
}

TEST_F(GroupSyncFaults, AFailedSyncfsFallsBackToOneSyncPerFile) {
    g_syncfs_fails = true;
    auto errors = round();
    EXPECT_GE(g_fdatasync_calls.load(), static_cast<int>(fds_.size()));
    for (std::size_t i = 0; i < errors.size(); ++i)
        EXPECT_EQ(errors[i], i == 3 ? EIO : 0) << i;
}

TEST_F(GroupSyncFaults, SmallRoundsSyncEachFile) {
    GroupSync sync(64, SyncCalls{fake_fdatasync, fake_fsync, fake_syncfs, fake_file_error});
    std::promise<int> bad;
    std::promise<int> good;
    sync.submit(fds_[3], -1, [&](int err) { bad.set_value(err); });
    EXPECT_EQ(bad.get_future().get(), EIO);
    sync.submit(fds_[0], -1, [&](int err) { good.set_value(err); });
    EXPECT_EQ(good.get_future().get(), 0);
}

TEST_F(GroupSyncFaults, AFileAndItsDirectoryTakeOneSyncfs) {
    int dir = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(dir, 0);
    {
        GroupSync sync(64, SyncCalls{fake_fdatasync, fake_fsync, fake_syncfs, fake_file_error});
        std::promise<int> done;
        sync.submit(fds_[0], dir, [&](int err) { done.set_value(err); });
        EXPECT_EQ(done.get_future().get(), 0);
    }
    ::close(dir);
    EXPECT_EQ(g_syncfs_calls.load(), 1);
    EXPECT_EQ(g_fdatasync_calls.load(), 0);
}

TEST_F(GroupSyncFaults, ALazyRequestWaitsForTheNextRoundOrItsDelay) {
    GroupSync sync(64, SyncCalls{fake_fdatasync, fake_fsync, fake_syncfs, fake_file_error});
    // Alone, it is served once its delay has passed.
    auto start = std::chrono::steady_clock::now();
    std::promise<int> alone;
    sync.submit_lazy(fds_[0], -1, [&](int err) { alone.set_value(err); });
    EXPECT_EQ(alone.get_future().get(), 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, GroupSync::kLazyDelay);
    // With an urgent request, one due much later joins that request's round at once.
    std::promise<int> later;
    std::promise<int> urgent;
    sync.submit_within(std::chrono::hours(1), fds_[3], -1, [&](int err) { later.set_value(err); });
    sync.submit(fds_[1], -1, [&](int err) { urgent.set_value(err); });
    auto later_result = later.get_future();
    ASSERT_EQ(later_result.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_EQ(later_result.get(), EIO);  // and learns its own outcome
    EXPECT_EQ(urgent.get_future().get(), 0);
}

TEST_F(GroupSyncFaults, LazyRequestsAreServedWhenStopping) {
    std::promise<int> lazy;
    auto start = std::chrono::steady_clock::now();
    {
        GroupSync sync(64, SyncCalls{fake_fdatasync, fake_fsync, fake_syncfs, fake_file_error});
        sync.submit_lazy(fds_[0], -1, [&](int err) { lazy.set_value(err); });
    }
    auto result = lazy.get_future();
    ASSERT_EQ(result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(result.get(), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, GroupSync::kLazyDelay);  // at once
}

}  // namespace
}  // namespace tern::spool
