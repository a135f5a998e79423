// Unit tests of the Spool on a real filesystem: commit, recovery after simulated crashes at
// every stage (half-written files, torn trailers, torn state logs), and group sync batching.
#include "spool/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>

#include "spool/spool_format.h"
#include "spool/text_reader.h"

namespace tern::spool {
namespace {

class SpoolTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/tern-spool-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        reopen();
    }
    void TearDown() override {
        spool_.reset();
        std::filesystem::remove_all(dir_);
    }
    void reopen(std::size_t recycle = 0) {
        spool_.reset();
        auto s = Spool::open(dir_ + "/spool", 64, recycle);
        ASSERT_TRUE(s) << s.error().message;
        spool_ = std::move(*s);
    }
    Message envelope(int recipients = 1) {
        Message m;
        m.arrival = 1795588117;
        m.sender = "alice@example.com";
        for (int i = 0; i < recipients; ++i) {
            Recipient r;
            r.address = "user" + std::to_string(i) + "@localhost";
            m.recipients.push_back(r);
        }
        return m;
    }
    // Writes and durably commits a message, as a session does before its 250 reply.
    // `forwarded`: the index of a recipient marked forwarded (SRS), or -1 for none.
    Message commit(const std::string& body, int recipients = 1, int forwarded = -1) {
        Message e = envelope(recipients);
        if (forwarded >= 0) e.recipients[static_cast<std::size_t>(forwarded)].forwarded = true;
        auto w = spool_->create(std::move(e));
        EXPECT_TRUE(w);
        (*w)->append(body);
        auto m = spool_->finish(**w);
        EXPECT_TRUE(m);
        std::promise<int> done;
        spool_->group_sync().submit((*w)->fd(), spool_->msg_dir_fd(),
                                    [&](int err) { done.set_value(err); });
        EXPECT_EQ(done.get_future().get(), 0);
        spool_->mark_committed(**w);
        return *m;
    }
    std::vector<Message> recover(RecoveryReport* report = nullptr) {
        std::vector<Message> out;
        auto r = spool_->recover(out);
        EXPECT_TRUE(r);
        if (report) *report = *r;
        return out;
    }
    std::string body_of(const Message& m) {
        auto fd = spool_->open_message(m.id);
        EXPECT_TRUE(fd);
        std::string text(m.body_length, '\0');
        EXPECT_EQ(pread(fd->get(), text.data(), text.size(), static_cast<off_t>(m.body_offset)),
                  static_cast<ssize_t>(text.size()));
        return text;
    }

    std::string dir_;
    std::unique_ptr<Spool> spool_;
};

TEST_F(SpoolTest, CommittedMessageIsRecoveredWithItsBody) {
    std::string body = "Subject: hi\r\n\r\nhello\r\n";
    Message m = commit(body, 2);
    reopen();
    RecoveryReport report;
    auto out = recover(&report);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(report.resumed, 1u);
    EXPECT_EQ(out[0].id, m.id);
    EXPECT_EQ(out[0].recipients.size(), 2u);
    EXPECT_EQ(body_of(out[0]), body);
}

TEST_F(SpoolTest, TheForwardedMarkSurvivesRecoveryAndFilesWithoutItLoadUnforwarded) {
    Message plain = commit("Subject: a\r\n\r\na\r\n", 2);
    Message marked = commit("Subject: b\r\n\r\nb\r\n", 2, 1);
    reopen();
    auto out = recover();
    ASSERT_EQ(out.size(), 2u);
    for (const auto& m : out) {
        ASSERT_EQ(m.recipients.size(), 2u);
        EXPECT_FALSE(m.recipients[0].forwarded);
        EXPECT_EQ(m.recipients[1].forwarded, m.id == marked.id);
    }
    // A file without the mark is byte for byte what Tern wrote before SRS.
    auto fd = spool_->open_message(plain.id);
    ASSERT_TRUE(fd);
    std::string head(plain.body_offset, '\0');
    ASSERT_EQ(pread(fd->get(), head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
    EXPECT_EQ(head.find("forwarded"), std::string::npos) << head;
}

TEST_F(SpoolTest, UnfinishedMessageIsRemovedAtRecovery) {
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    (*w)->append("partial body without trailer");
    std::string id = (*w)->id();
    reopen();  // the "crash": the writer never finished
    RecoveryReport report;
    EXPECT_TRUE(recover(&report).empty());
    EXPECT_EQ(report.removed, 1u);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/msg/" + id));
}

void damage_body(const std::string& path, const Message& m) {
    // Zeros inside the body: a block that never reached the disk, or bad media.
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::string zeros(512, '\0');
    ASSERT_EQ(pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(m.body_offset + 4096)),
              512);
    ::close(fd);
}

bool committed_mark(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return has_commit_mark(st.st_mode);
}

TEST_F(SpoolTest, TheCommitMarkComesOnlyAfterTheSync) {
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    std::string path = spool_->message_path((*w)->id());
    EXPECT_FALSE(committed_mark(path));  // being written
    (*w)->append("body\r\n");
    ASSERT_TRUE(spool_->finish(**w));
    EXPECT_FALSE(committed_mark(path));  // complete, but not yet known to be on disk
    spool_->mark_committed(**w);
    EXPECT_TRUE(committed_mark(path));
}

TEST_F(SpoolTest, DamagedCommittedMessageIsQuarantinedWithItsStateLog) {
    Message m = commit(std::string(10000, 'x'), 2);
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kDelivered;
    ASSERT_TRUE(spool_->append_state(m.id, encode_recipient_state(0, r)));
    damage_body(spool_->message_path(m.id), m);
    reopen(4);
    RecoveryReport report;
    EXPECT_TRUE(recover(&report).empty());
    EXPECT_EQ(report.removed, 0u);
    ASSERT_EQ(report.quarantined.size(), 1u);
    EXPECT_EQ(report.quarantined[0].name, m.id);
    EXPECT_NE(report.quarantined[0].reason.find("CRC"), std::string::npos);
    // Kept, with its state log and the reason beside it; never taken for reuse.
    EXPECT_FALSE(std::filesystem::exists(spool_->message_path(m.id)));
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/spool/quarantine/" + m.id));
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/spool/quarantine/" + m.id + ".state"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/state/" + m.id));
    EXPECT_EQ(spool_->recycled(), 0u);
    auto listed = list_quarantine(dir_ + "/spool");
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, m.id);
    EXPECT_EQ(listed[0].reason, report.quarantined[0].reason);
    EXPECT_GT(listed[0].size, 10000u);
    // A second start leaves it where it is.
    reopen(4);
    RecoveryReport again;
    recover(&again);
    EXPECT_TRUE(again.quarantined.empty());
    EXPECT_EQ(list_quarantine(dir_ + "/spool").size(), 1u);
}

TEST_F(SpoolTest, DamagedFileWithoutCommitMarkWasNeverAcknowledgedAndIsRemoved) {
    Message m = commit(std::string(10000, 'x'));
    damage_body(spool_->message_path(m.id), m);
    ASSERT_EQ(::chmod(spool_->message_path(m.id).c_str(), kWritingMode), 0);
    reopen();
    RecoveryReport report;
    EXPECT_TRUE(recover(&report).empty());
    EXPECT_EQ(report.removed, 1u);
    EXPECT_TRUE(report.quarantined.empty());
}

TEST_F(SpoolTest, EveryTruncationOfACommittedFileIsQuarantinedAndOfAnUnfinishedOneRemoved) {
    Message m = commit("line one\r\nline two\r\n");
    std::string path = dir_ + "/spool/msg/" + m.id;
    auto full = std::filesystem::file_size(path);
    for (bool committed : {true, false}) {
        for (std::uintmax_t size = 0; size < full; size += 5) {
            std::string keep = dir_ + "/keep";  // outside the spool, which recovery cleans
            std::filesystem::copy_file(path, keep,
                                       std::filesystem::copy_options::overwrite_existing);
            std::filesystem::resize_file(path, size);
            ASSERT_EQ(::chmod(path.c_str(), committed ? kCommittedMode : kWritingMode), 0);
            reopen();
            RecoveryReport report;
            EXPECT_TRUE(recover(&report).empty()) << size;
            EXPECT_EQ(report.quarantined.size(), committed ? 1u : 0u) << size;
            EXPECT_EQ(report.removed, committed ? 0u : 1u) << size;
            std::filesystem::remove_all(dir_ + "/spool/quarantine");
            std::filesystem::rename(keep, path);
        }
    }
}

TEST_F(SpoolTest, FilesOfAnEarlierVersionWithoutTheMarkStillLoad) {
    // Spool files written before the commit mark existed are complete but unmarked.
    Message m = commit("from the old version\r\n");
    ASSERT_EQ(::chmod(spool_->message_path(m.id).c_str(), kWritingMode), 0);
    reopen();
    auto out = recover();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(body_of(out[0]), "from the old version\r\n");
}

TEST_F(SpoolTest, StateLogIsReplayedAndTornTailCut) {
    Message m = commit("body\r\n", 2);
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kDelivered;
    r.reported = true;
    std::string line = encode_recipient_state(0, r);
    Recipient d = m.recipients[1];
    d.status = RecipientStatus::kDeferred;
    d.attempts = 1;
    std::string torn = encode_recipient_state(1, d);
    auto fd = spool_->append_state(m.id, line + torn.substr(0, torn.size() / 2));
    ASSERT_TRUE(fd);
    fd->reset();
    reopen();
    auto out = recover();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].recipients[0].status, RecipientStatus::kDelivered);
    EXPECT_EQ(out[0].recipients[1].status,
              RecipientStatus::kPending);  // the torn record never happened
    // The torn end is cut off, so the next append is a line of its own and survives.
    d.status = RecipientStatus::kFailed;
    auto next = spool_->append_state(m.id, encode_recipient_state(1, d));
    ASSERT_TRUE(next);
    next->reset();
    reopen();
    RecoveryReport report;
    out = recover(&report);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].recipients[1].status, RecipientStatus::kFailed);
    EXPECT_EQ(report.repaired, 0u);
}

TEST_F(SpoolTest, AFailedAppendLeavesNoPartialLine) {
    Message m = commit("body\r\n", 2);
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kDeferred;
    ASSERT_TRUE(spool_->append_state(m.id, encode_recipient_state(0, r)));
    auto size = std::filesystem::file_size(dir_ + "/spool/state/" + m.id);
    // A file size limit makes the next write short, then fail, as a full disk does.
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit old {};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit small = old;
    small.rlim_cur = size + 10;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    r.status = RecipientStatus::kDelivered;
    auto failed = spool_->append_state(m.id, encode_recipient_state(0, r));
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
    EXPECT_FALSE(failed);
    EXPECT_EQ(std::filesystem::file_size(dir_ + "/spool/state/" + m.id), size);
    // The retried append is whole and wins.
    ASSERT_TRUE(spool_->append_state(m.id, encode_recipient_state(0, r)));
    reopen();
    RecoveryReport report;
    auto out = recover(&report);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].recipients[0].status, RecipientStatus::kDelivered);
    EXPECT_EQ(report.repaired, 0u);
}

TEST_F(SpoolTest, CompleteMessagesAreCleanedUp) {
    Message m = commit("body\r\n");
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kDelivered;
    r.reported = true;
    ASSERT_TRUE(spool_->append_state(m.id, encode_recipient_state(0, r)));
    reopen();
    RecoveryReport report;
    EXPECT_TRUE(recover(&report).empty());
    EXPECT_EQ(report.finished, 1u);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/msg/" + m.id));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/state/" + m.id));
}

TEST_F(SpoolTest, OrphanStateLogsAreRemovedAndForeignFilesQuarantined) {
    { std::ofstream(dir_ + "/spool/state/0000000000000000") << "junk\n"; }
    { std::ofstream(dir_ + "/spool/msg/not-a-queue-id") << "junk\n"; }
    reopen();
    RecoveryReport report;
    recover(&report);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/state/0000000000000000"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/msg/not-a-queue-id"));
    ASSERT_EQ(report.quarantined.size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/spool/quarantine/not-a-queue-id"));
}

TEST_F(SpoolTest, QueueIdsAreUniqueAndOrdered) {
    std::string last;
    for (int i = 0; i < 2000; ++i) {
        auto w = spool_->create(envelope());
        ASSERT_TRUE(w);
        EXPECT_GT((*w)->id(), last);
        last = (*w)->id();
        spool_->discard(**w);
    }
}

TEST_F(SpoolTest, GroupSyncServesConcurrentRequestsInFewRounds) {
    constexpr int kFiles = 200;
    std::vector<std::unique_ptr<MessageWriter>> writers;
    for (int i = 0; i < kFiles + 1; ++i) {
        auto w = spool_->create(envelope());
        ASSERT_TRUE(w);
        (*w)->append("x");
        writers.push_back(std::move(*w));
    }
    // The first request holds the sync thread (its callback runs there) until every other
    // request has been submitted, so they are all waiting together when the next round starts.
    std::promise<void> submitted;
    auto gate = submitted.get_future().share();
    std::atomic<int> done{0};
    std::promise<void> all;
    auto count = [&](int err) {
        EXPECT_EQ(err, 0);
        if (++done == kFiles + 1) all.set_value();
    };
    spool_->group_sync().submit(writers[0]->fd(), spool_->msg_dir_fd(), [&, gate](int err) {
        gate.wait();
        count(err);
    });
    for (int i = 1; i <= kFiles; ++i)
        spool_->group_sync().submit(writers[i]->fd(), spool_->msg_dir_fd(), count);
    submitted.set_value();
    all.get_future().get();
    EXPECT_EQ(spool_->group_sync().served(), static_cast<std::size_t>(kFiles + 1));
    // The gate's round, then 200 requests in rounds of at most 64 (the fixture's batch limit).
    EXPECT_LE(spool_->group_sync().rounds(), 1u + (kFiles + 63) / 64);
}

ino_t inode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
}

TEST_F(SpoolTest, FinishedFilesAreReusedAndCutToTheNewLength) {
    reopen(4);
    recover();
    auto first = commit(std::string(5000, 'a'));
    auto inode = inode_of(spool_->message_path(first.id));
    spool_->remove(first.id);
    EXPECT_EQ(spool_->recycled(), 1u);
    EXPECT_FALSE(std::filesystem::exists(spool_->message_path(first.id)));
    auto second = commit("short body\r\n");
    EXPECT_EQ(spool_->recycled(), 0u);
    EXPECT_EQ(inode_of(spool_->message_path(second.id)), inode);
    // The old, longer content is gone: a restart finds exactly the new message.
    reopen(4);
    auto out = recover();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].id, second.id);
    EXPECT_EQ(body_of(out[0]), "short body\r\n");
}

TEST_F(SpoolTest, RecycledFileWithStaleContentIsNotResurrected) {
    // A crash after a kept file was renamed for a new message but before the new content
    // reached the disk leaves the old, complete message under the new name.
    reopen(4);
    recover();
    // reuse() takes the commit mark away before the rename.
    auto old = commit("old message\r\n");
    ASSERT_EQ(::chmod(spool_->message_path(old.id).c_str(), kWritingMode), 0);
    std::filesystem::rename(spool_->message_path(old.id), dir_ + "/spool/msg/CRB0000000000000");
    reopen(4);
    RecoveryReport report;
    auto out = recover(&report);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(report.removed, 1u);
}

TEST_F(SpoolTest, ReusedFileLosesItsOldCommitMark) {
    reopen(4);
    recover();
    auto first = commit("first\r\n");
    spool_->remove(first.id);
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    EXPECT_FALSE(committed_mark(spool_->message_path((*w)->id())));
    spool_->discard(**w);
}

TEST_F(SpoolTest, RecyclingHasLimits) {
    reopen(1);
    recover();
    auto big = commit(std::string(kRecycleMaxFileSize + 1, 'b'));
    spool_->remove(big.id);
    EXPECT_EQ(spool_->recycled(), 0u);  // too large to keep
    auto a = commit("a\r\n");
    auto b = commit("b\r\n");
    spool_->remove(a.id);
    spool_->remove(b.id);
    EXPECT_EQ(spool_->recycled(), 1u);  // at most recycle_files
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/spool/free"),
                            std::filesystem::directory_iterator()),
              1);
    // Kept files survive a restart, but never more than the limit allows.
    reopen(0);
    recover();
    EXPECT_EQ(spool_->recycled(), 0u);
    EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/spool/free"));
}

TEST_F(SpoolTest, HeaderEditsAreStoredAfterTheTextAndAppliedWhenRead) {
    std::string text = "Received: by us\r\nSubject: hi\r\nX-Drop: me\r\n\r\nbody\r\n";
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    (*w)->append(text);
    std::vector<message::HeaderEdit> edits{
        {message::HeaderEdit::Kind::kPrepend, 0, "Authentication-Results: mx; none\r\n"},
        {message::HeaderEdit::Kind::kRemove, 3, ""},  // X-Drop, after the prepend
    };
    (*w)->set_edits(edits,
                    message::edits_size_delta(
                        {"Received: by us\r\n", "Subject: hi\r\n", "X-Drop: me\r\n"}, edits));
    auto m = spool_->finish(**w);
    ASSERT_TRUE(m);
    std::string expected =
        "Authentication-Results: mx; none\r\nReceived: by us\r\nSubject: hi\r\n\r\nbody\r\n";
    auto read_all = [&](const Message& msg) {
        auto fd = spool_->open_message(msg.id);
        EXPECT_TRUE(fd);
        TextReader reader(fd->get(), msg);
        EXPECT_FALSE(reader.failed());
        EXPECT_EQ(reader.size(), msg.size());
        std::string out;
        // Read in odd pieces: the edited head and the file's rest join seamlessly.
        for (std::uint64_t pos = 0; pos < reader.size();) {
            char buf[7];
            auto n = reader.read_at(pos, buf, sizeof buf);
            EXPECT_GT(n, 0u);
            out.append(buf, n);
            pos += n;
        }
        return out;
    };
    EXPECT_EQ(read_all(*m), expected);
    EXPECT_EQ(m->size(), expected.size());
    // The edits survive a restart, and the file keeps the text as received.
    std::promise<int> done;
    spool_->group_sync().submit((*w)->fd(), spool_->msg_dir_fd(),
                                [&](int e) { done.set_value(e); });
    ASSERT_EQ(done.get_future().get(), 0);
    spool_->mark_committed(**w);
    reopen();
    auto out = recover();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].edits, edits);
    EXPECT_EQ(read_all(out[0]), expected);
    EXPECT_EQ(body_of(out[0]), text);
}

TEST_F(SpoolTest, AFileWithoutEditsKeepsTheFirstFormat) {
    Message m = commit("Subject: plain\r\n\r\nbody\r\n");
    auto path = spool_->message_path(m.id);
    std::ifstream in(path, std::ios::binary);
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GE(file.size(), kTrailerSize);
    EXPECT_EQ(file.substr(file.size() - kTrailerSize, 8), kTrailerMagic);
    EXPECT_EQ(file.find("TERN-EDITS"), std::string::npos);
}

// Overwrites the third octet before a trailer of `trailer_size` octets.
void damage_before_trailer(const std::string& path, std::size_t trailer_size) {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    auto size = std::filesystem::file_size(path);
    ASSERT_EQ(pwrite(fd, "Z", 1, static_cast<off_t>(size - trailer_size - 3)), 1);
    ::close(fd);
}

TEST_F(SpoolTest, DamageToTheEditsBlockIsCaught) {
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    (*w)->append("Subject: x\r\n\r\nbody\r\n");
    (*w)->set_edits({{message::HeaderEdit::Kind::kPrepend, 0, "X-A: b\r\n"}}, 8);
    auto m = spool_->finish(**w);
    ASSERT_TRUE(m);
    spool_->mark_committed(**w);
    // A byte of the edits block, just before the 40-octet trailer.
    damage_before_trailer(spool_->message_path(m->id), kTrailer2Size);
    reopen();
    RecoveryReport report;
    EXPECT_TRUE(recover(&report).empty());
    EXPECT_EQ(report.quarantined.size(), 1u);
}

// Reads a message's whole text as delivery does, in odd pieces.
std::string delivered_text(Spool& spool, const Message& m) {
    auto fd = spool.open_message(m.id);
    EXPECT_TRUE(fd);
    TextReader reader(fd->get(), m);
    EXPECT_FALSE(reader.failed());
    EXPECT_EQ(reader.size(), m.size());
    std::string out;
    for (std::uint64_t pos = 0; pos < reader.size();) {
        char buf[5];
        auto n = reader.read_at(pos, buf, sizeof buf);
        if (n == 0) break;
        out.append(buf, n);
        pos += n;
    }
    return out;
}

TEST_F(SpoolTest, AChangedEnvelopeAndBodyAreStoredAfterTheTextAndRecovered) {
    std::string text = "Received: by us\r\nSubject: hi\r\n\r\nthe body as received\r\n";
    std::string body = "a new body\r\nof two lines\r\n";
    auto w = spool_->create(envelope(2));
    ASSERT_TRUE(w);
    (*w)->append(text);
    std::vector<message::HeaderEdit> edits{
        {message::HeaderEdit::Kind::kPrepend, 0, "X-Milter: yes\r\n"}};
    long long body_delta = static_cast<long long>(body.size()) -
                           static_cast<long long>(std::string("the body as received\r\n").size());
    (*w)->set_edits(edits, 15 + body_delta);
    Message changed = (*w)->message();
    changed.sender = "new@example.org";
    changed.recipients.erase(changed.recipients.begin());
    Recipient added;
    added.address = "carol@example.net";
    added.original = "carol@example.net";
    added.notify.never = true;
    changed.recipients.push_back(added);
    (*w)->set_envelope(changed);
    (*w)->set_body(body);
    auto m = spool_->finish(**w);
    ASSERT_TRUE(m);
    std::string expected = "X-Milter: yes\r\nReceived: by us\r\nSubject: hi\r\n\r\n" + body;
    EXPECT_EQ(delivered_text(*spool_, *m), expected);
    EXPECT_EQ(m->sender, "new@example.org");
    std::promise<int> done;
    spool_->group_sync().submit((*w)->fd(), spool_->msg_dir_fd(),
                                [&](int e) { done.set_value(e); });
    ASSERT_EQ(done.get_future().get(), 0);
    spool_->mark_committed(**w);
    auto path = spool_->message_path(m->id);
    {
        std::ifstream in(path, std::ios::binary);
        std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(file.substr(file.size() - kTrailer3Size, 8), kTrailerMagic3);
    }
    reopen();
    auto out = recover();
    ASSERT_EQ(out.size(), 1u);
    const Message& r = out[0];
    EXPECT_EQ(r.id, m->id);
    EXPECT_EQ(r.sender, "new@example.org");
    ASSERT_EQ(r.recipients.size(), 2u);
    EXPECT_EQ(r.recipients[0].address, "user1@localhost");
    EXPECT_EQ(r.recipients[1].address, "carol@example.net");
    EXPECT_TRUE(r.recipients[1].notify.never);
    EXPECT_EQ(r.edits, edits);
    EXPECT_TRUE(r.body_replaced);
    EXPECT_EQ(delivered_text(*spool_, r), expected);
    EXPECT_EQ(body_of(r), text);  // the text as received stays in the file
    // State log lines count the recipients of the changed envelope.
    Recipient done_one = r.recipients[1];
    done_one.status = RecipientStatus::kDelivered;
    ASSERT_TRUE(spool_->append_state(r.id, encode_recipient_state(1, done_one)));
    reopen();
    out = recover();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].recipients[1].status, RecipientStatus::kDelivered);
    EXPECT_EQ(out[0].recipients[0].status, RecipientStatus::kPending);
}

TEST_F(SpoolTest, AnEmptyReplacementBodyAndATextWithoutSeparator) {
    // Replaced by nothing: the header section alone is delivered.
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    (*w)->append("Subject: a\r\n\r\nold body\r\n");
    (*w)->set_edits({}, -10);
    (*w)->set_body("");
    auto m = spool_->finish(**w);
    ASSERT_TRUE(m);
    EXPECT_EQ(delivered_text(*spool_, *m), "Subject: a\r\n\r\n");
    // A text without a header/body separator gets one before the new body.
    auto w2 = spool_->create(envelope());
    ASSERT_TRUE(w2);
    (*w2)->append("Subject: b\r\n");
    (*w2)->set_edits({}, 2 + 5);
    (*w2)->set_body("new\r\n");
    auto m2 = spool_->finish(**w2);
    ASSERT_TRUE(m2);
    EXPECT_EQ(delivered_text(*spool_, *m2), "Subject: b\r\n\r\nnew\r\n");
}

TEST_F(SpoolTest, DamageToTheChangedEnvelopeIsCaughtAndEarlierFormatsStillLoad) {
    Message first = commit("Subject: format 1\r\n\r\nbody\r\n");
    auto w = spool_->create(envelope());
    ASSERT_TRUE(w);
    (*w)->append("Subject: x\r\n\r\nbody\r\n");
    Message changed = (*w)->message();
    changed.sender = "other@example.org";
    (*w)->set_envelope(changed);
    auto m = spool_->finish(**w);
    ASSERT_TRUE(m);
    spool_->mark_committed(**w);
    // A byte of the changed envelope ("end\n" just before the trailer).
    damage_before_trailer(spool_->message_path(m->id), kTrailer3Size);
    reopen();
    RecoveryReport report;
    auto out = recover(&report);
    ASSERT_EQ(out.size(), 1u);  // the format 1 file, untouched by the change
    EXPECT_EQ(out[0].id, first.id);
    EXPECT_EQ(report.quarantined.size(), 1u);
}

}  // namespace
}  // namespace tern::spool
