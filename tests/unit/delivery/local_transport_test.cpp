// Unit tests of LocalTransport with a real spool and Maildir, and a file-call seam that makes
// opening or syncing a new/ directory fail: the recipient is deferred, never reported delivered,
// and no copy is left in new/ for the retry to duplicate.
#include "delivery/local_transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <future>
#include <map>

#include "test_files.h"

namespace tern::delivery {
namespace {

namespace fs = std::filesystem;

// Fails the calls a test names, with EMFILE (open) or EIO (sync), for new/ directories only.
class FaultyIo : public MaildirIo {
  public:
    using MaildirIo::MaildirIo;
    bool fail_new_dir_open = false;
    std::string fail_dir_sync_in;  // the new/ directories whose path holds this fail to sync

    int open(const std::string& path, int flags, mode_t mode) override {
        bool new_dir = (flags & O_DIRECTORY) && path.ends_with("/new");
        if (fail_new_dir_open && new_dir) {
            errno = EMFILE;
            return -1;
        }
        int fd = MaildirIo::open(path, flags, mode);
        if (new_dir && fd >= 0) new_dirs_[fd] = path;
        return fd;
    }
    void submit(int fd, int dir_fd, std::move_only_function<void(int)> done) override {
        auto dir = new_dirs_.find(dir_fd);
        if (!fail_dir_sync_in.empty() && dir != new_dirs_.end() &&
            dir->second.find(fail_dir_sync_in) != std::string::npos) {
            done(EIO);
            return;
        }
        MaildirIo::submit(fd, dir_fd, std::move(done));
    }

  private:
    std::map<int, std::string> new_dirs_;  // descriptors of new/ directories opened, by fd
};

class LocalTransportTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.empty());
        auto s = spool::Spool::open(dir_ + "/spool", 64);
        ASSERT_TRUE(s) << s.error().message;
        spool_ = std::move(*s);
        io_ = std::make_unique<FaultyIo>(spool_->group_sync());
        maildir_ = std::make_unique<Maildir>(dir_ + "/mail", "h", *io_);
    }

    // Commits a message for alice@localhost and bob@localhost to the spool.
    std::shared_ptr<const spool::Message> commit(const std::string& text) {
        spool::Message m;
        m.arrival = 1795588117;
        m.sender = "sender@example.org";
        for (const char* address : {"alice@localhost", "bob@localhost"}) {
            spool::Recipient r;
            r.address = address;
            m.recipients.push_back(r);
        }
        auto w = spool_->create(m);
        EXPECT_TRUE(w);
        (*w)->append(text);
        auto done = spool_->finish(**w);
        EXPECT_TRUE(done);
        std::promise<int> synced;
        spool_->group_sync().submit((*w)->fd(), spool_->msg_dir_fd(),
                                    [&](int err) { synced.set_value(err); });
        EXPECT_EQ(synced.get_future().get(), 0);
        return std::make_shared<const spool::Message>(*done);
    }

    std::vector<queue::RecipientResult> deliver(std::shared_ptr<const spool::Message> message) {
        LocalTransport transport(*spool_, *maildir_);
        boost::asio::io_context loop;
        std::vector<queue::RecipientResult> results;
        boost::asio::co_spawn(
            loop, transport.deliver(queue::DeliveryJob{std::move(message), {0, 1}, "local"}),
            [&](std::exception_ptr e, std::vector<queue::RecipientResult> r) {
                if (e) std::rethrow_exception(e);
                results = std::move(r);
            });
        loop.run();
        return results;
    }

    std::vector<std::string> files_in(const std::string& user, const char* sub) const {
        std::vector<std::string> names;
        fs::path path = fs::path(dir_) / "mail" / user / "Maildir" / sub;
        if (!fs::is_directory(path)) return names;
        for (const auto& entry : fs::directory_iterator(path))
            names.push_back(entry.path());
        return names;
    }

    static std::string read(const std::string& path) { return tern::testing::read_file(path); }

    // Destroyed in reverse order: the Maildir, its file calls, the spool, then the directory.
    tern::testing::TempDir temp_{"tern-local"};
    std::string dir_ = temp_.path();
    std::unique_ptr<spool::Spool> spool_;
    std::unique_ptr<FaultyIo> io_;
    std::unique_ptr<Maildir> maildir_;
};

TEST_F(LocalTransportTest, DeliversWithLfLineEnds) {
    auto results = deliver(commit("Subject: hi\r\n\r\nline one\r\nline two\r\n"));
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) {
        EXPECT_EQ(r.outcome, queue::Outcome::kDelivered) << r.reply;
        EXPECT_EQ(r.reply, "250 2.0.0 Delivered to maildir");
    }
    auto files = files_in("alice", "new");
    ASSERT_EQ(files.size(), 1u);
    const std::string expected =
        "Return-Path: <sender@example.org>\nDelivered-To: alice@localhost\n"
        "Subject: hi\n\nline one\nline two\n";
    EXPECT_EQ(read(files[0]), expected);
    EXPECT_TRUE(files[0].ends_with(",S=" + std::to_string(expected.size()))) << files[0];
    EXPECT_EQ(files_in("bob", "new").size(), 1u);
    EXPECT_TRUE(files_in("alice", "tmp").empty());
}

// Opening new/ fails (too many open files): the directory could not be synced, so the
// recipients are deferred and the files never reach new/.
TEST_F(LocalTransportTest, NewDirectoryThatCannotBeOpenedDefers) {
    io_->fail_new_dir_open = true;
    auto results = deliver(commit("Subject: hi\r\n\r\nbody\r\n"));
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) {
        EXPECT_EQ(r.outcome, queue::Outcome::kDeferred) << r.reply;
        EXPECT_TRUE(r.reply.starts_with("451 4.3.0 Local delivery failed: open ")) << r.reply;
        EXPECT_TRUE(r.reply.ends_with("/Maildir/new: Too many open files")) << r.reply;
    }
    for (const char* user : {"alice", "bob"}) {
        EXPECT_TRUE(files_in(user, "new").empty()) << user;
        EXPECT_TRUE(files_in(user, "tmp").empty()) << user;
    }

    io_->fail_new_dir_open = false;  // the retry delivers exactly one copy
    results = deliver(commit("Subject: hi\r\n\r\nbody\r\n"));
    EXPECT_EQ(results[0].outcome, queue::Outcome::kDelivered) << results[0].reply;
    EXPECT_EQ(files_in("alice", "new").size(), 1u);
}

// Syncing new/ fails after the rename: the recipients are deferred and their files are taken
// back out of new/, so that the retry does not deliver a second copy.
TEST_F(LocalTransportTest, NewDirectoryThatCannotBeSyncedDefers) {
    io_->fail_dir_sync_in = "/";
    auto results = deliver(commit("Subject: hi\r\n\r\nbody\r\n"));
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) {
        EXPECT_EQ(r.outcome, queue::Outcome::kDeferred) << r.reply;
        EXPECT_TRUE(r.reply.starts_with("451 4.3.0 Local delivery failed: fsync ")) << r.reply;
        EXPECT_TRUE(r.reply.ends_with("/Maildir/new: Input/output error")) << r.reply;
    }
    for (const char* user : {"alice", "bob"}) {
        EXPECT_TRUE(files_in(user, "new").empty()) << user;
        EXPECT_TRUE(files_in(user, "tmp").empty()) << user;
    }
}

// Only the recipient whose new/ directory failed to sync is deferred; the other is delivered.
TEST_F(LocalTransportTest, OnlyTheRecipientWhoseDirectoryFailedIsDeferred) {
    io_->fail_dir_sync_in = "/bob/";
    auto results = deliver(commit("Subject: hi\r\n\r\nbody\r\n"));
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) {
        if (r.index == 0) {
            EXPECT_EQ(r.outcome, queue::Outcome::kDelivered) << r.reply;
        } else {
            EXPECT_EQ(r.outcome, queue::Outcome::kDeferred) << r.reply;
            EXPECT_TRUE(r.reply.ends_with("/bob/Maildir/new: Input/output error")) << r.reply;
        }
    }
    EXPECT_EQ(files_in("alice", "new").size(), 1u);
    EXPECT_TRUE(files_in("bob", "new").empty());
}

}  // namespace
}  // namespace tern::delivery
