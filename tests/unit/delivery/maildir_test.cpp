// Unit tests of Maildir delivery in a temporary directory: what lands in new/, what is left in
// tmp/, the file names, and the user names that must be refused.
#include "delivery/maildir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "spool/group_sync.h"
#include "test_files.h"

namespace tern::delivery {
namespace {

namespace fs = std::filesystem;

class MaildirTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_FALSE(dir_.empty()); }
    void TearDown() override {
        if (source_ >= 0) ::close(source_);
    }

    // Opens a source file (the spool's message file) holding `content`.
    int source(std::string_view content) {
        std::string path = dir_ + "/source";
        std::ofstream(path, std::ios::binary) << content;
        source_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        EXPECT_GE(source_, 0);
        return source_;
    }

    static std::string read(const std::string& path) { return tern::testing::read_file(path); }

    static std::vector<std::string> names_in(const std::string& dir) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir)) {
            names.push_back(entry.path().filename());
        }
        return names;
    }

    tern::testing::TempDir temp_{"tern-maildir"};
    std::string dir_ = temp_.path();
    std::string root_ = dir_ + "/var/mail";  // missing: write() creates it
    int source_ = -1;
    spool::GroupSync sync_{8};
    MaildirIo io_{sync_};
};

TEST_F(MaildirTest, WriteThenPublish) {
    const std::string body = "Subject: hi\r\n\r\nfirst line\r\nsecond line\r\n";
    int fd = source("SPOOL-HEADER\n" + body + "TRAILER");
    ASSERT_EQ(::lseek(fd, 5, SEEK_SET), 5);

    Maildir maildir(root_, "mx.example.com", io_);
    const std::string prefix = "Return-Path: <a@example.org>\r\nDelivered-To: alice@localhost\r\n";
    auto file = maildir.write("alice", prefix, fd, 13, body.size());
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 5);  // the source's position is left alone
    EXPECT_GE(file->fd, 0);
    // Maildir files end lines with LF: what a mail reader (s-nail, mutt, Dovecot) expects.
    const std::string expected =
        "Return-Path: <a@example.org>\nDelivered-To: alice@localhost\n"
        "Subject: hi\n\nfirst line\nsecond line\n";
    EXPECT_EQ(file->size, expected.size());

    const std::string md = root_ + "/alice/Maildir";
    EXPECT_EQ(maildir.path_of("alice"), md);
    EXPECT_EQ(file->new_dir, md + "/new");
    EXPECT_EQ(fs::path(file->tmp_path).parent_path(), md + "/tmp");
    EXPECT_EQ(fs::path(file->new_path).parent_path(), md + "/new");
    EXPECT_TRUE(fs::is_directory(md + "/cur"));
    EXPECT_TRUE(names_in(md + "/new").empty());  // not visible before publish
    EXPECT_EQ(read(file->tmp_path), expected);

    struct stat st {};
    ASSERT_EQ(::stat(file->tmp_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    for (const std::string& d : {root_ + "/alice", md, md + "/tmp", md + "/new", md + "/cur"}) {
        ASSERT_EQ(::stat(d.c_str(), &st), 0) << d;
        EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
    }

    ASSERT_TRUE(maildir.publish(*file));
    EXPECT_EQ(file->fd, -1);
    EXPECT_FALSE(fs::exists(file->tmp_path));
    EXPECT_TRUE(names_in(md + "/tmp").empty());
    ASSERT_EQ(names_in(md + "/new").size(), 1u);
    EXPECT_EQ(read(file->new_path), expected);
    EXPECT_EQ(fs::path(file->new_path)
                  .filename()
                  .string()
                  .substr(fs::path(file->tmp_path).filename().string().size()),
              ",S=" + std::to_string(expected.size()));
    EXPECT_EQ(fs::file_size(file->new_path), expected.size());
}

TEST_F(MaildirTest, FileNameFollowsTheMaildirConvention) {
    int fd = source("hello\n");
    Maildir maildir(root_, "host/with:odd", io_);
    auto file = maildir.write("bob", "", fd, 0, 6);
    ASSERT_TRUE(file);
    std::string tmp_name = fs::path(file->tmp_path).filename();
    std::string new_name = fs::path(file->new_path).filename();
    EXPECT_TRUE(
        std::regex_match(tmp_name, std::regex(R"(\d+\.M\d+P\d+Q\d+\.host\\057with\\072odd)")))
        << tmp_name;
    EXPECT_EQ(new_name, tmp_name + ",S=6");
    EXPECT_NE(tmp_name.find("P" + std::to_string(::getpid()) + "Q"), std::string::npos);
    ASSERT_TRUE(maildir.publish(*file));
    EXPECT_EQ(read(root_ + "/bob/Maildir/new/" + new_name), "hello\n");
}

TEST_F(MaildirTest, EmptyMessageAndPrefixOnly) {
    int fd = source("");
    Maildir maildir(root_, "h", io_);
    auto empty = maildir.write("carol", "", fd, 0, 0);
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->size, 0u);
    auto prefix_only = maildir.write("carol", "X-Only: prefix\r\n", fd, 0, 0);
    ASSERT_TRUE(prefix_only);
    ASSERT_TRUE(maildir.publish(*empty));
    ASSERT_TRUE(maildir.publish(*prefix_only));
    EXPECT_EQ(read(empty->new_path), "");
    EXPECT_EQ(read(prefix_only->new_path), "X-Only: prefix\n");
}

// The text holds lone CRs and LFs but no CR LF pair: nothing in it changes.
TEST_F(MaildirTest, LargeMessageIsCopiedExactly) {
    std::string content(3 * 1024 * 1024 + 17, '\0');
    for (std::size_t i = 0; i < content.size(); ++i)
        content[i] = static_cast<char>(i * 131 % 251);
    int fd = source(content);
    Maildir maildir(root_, "h", io_);
    ASSERT_EQ(content.find("\r\n"), std::string::npos);
    ASSERT_NE(content.find('\r'), std::string::npos);
    auto file = maildir.write("dave", "P: 1\r\n", fd, 1000, content.size() - 2000);
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_TRUE(maildir.publish(*file));
    EXPECT_EQ(read(file->new_path), "P: 1\n" + content.substr(1000, content.size() - 2000));
}

// A memfd lives on another file system than the Maildir.
TEST_F(MaildirTest, SourceOnAnotherFileSystem) {
    int fd = ::memfd_create("tern-test", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    source_ = fd;
    std::string content(200 * 1024, 'x');
    for (std::size_t i = 0; i < content.size(); i += 7)
        content[i] = static_cast<char>('a' + i % 26);
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    Maildir maildir(root_, "h", io_);
    auto file = maildir.write("erin", "H\r\n", fd, 3, content.size() - 3);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), static_cast<off_t>(content.size()));
    ASSERT_TRUE(maildir.publish(*file));
    EXPECT_EQ(read(file->new_path), "H\n" + content.substr(3));
}

// The spool reads the message in chunks of 64 KiB from the body offset: a CR LF cut by a chunk
// end is still one LF, and a CR at a chunk end that no LF follows stays.
TEST_F(MaildirTest, CrLfAcrossReadChunksBecomesOneLf) {
    constexpr std::size_t kChunk = 64 * 1024;
    constexpr std::size_t kOffset = 7;
    std::string text(3 * kChunk + 10, 'a');
    for (std::size_t i = 100; i < text.size(); i += 100) {
        text[i - 2] = '\r';
        text[i - 1] = '\n';
    }
    text[kChunk - 1] = '\r';  // split: CR ends the first read, LF starts the second
    text[kChunk] = '\n';
    text[2 * kChunk - 1] = '\r';  // a lone CR ends the second read
    text[2 * kChunk] = 'b';
    text.back() = '\r';  // and the message ends with a lone CR
    int fd = source(std::string(kOffset, '#') + text + "#");
    Maildir maildir(root_, "h", io_);
    auto file = maildir.write("frank", "", fd, kOffset, text.size());
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_TRUE(maildir.publish(*file));

    std::string expected;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        expected += text[i];
    }
    std::string got = read(file->new_path);
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected);
    EXPECT_EQ(got.find("\r\n"), std::string::npos);
    EXPECT_EQ(got.back(), '\r');
    EXPECT_EQ(file->size, expected.size());
    EXPECT_TRUE(file->new_path.ends_with(",S=" + std::to_string(expected.size())));
}

TEST_F(MaildirTest, ShortSourceFailsAndLeavesNothing) {
    int fd = source("only twenty octets..");
    Maildir maildir(root_, "h", io_);
    auto file = maildir.write("alice", "prefix", fd, 10, 11);
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().code, ErrorCode::kIo);
    EXPECT_TRUE(names_in(root_ + "/alice/Maildir/tmp").empty());
}

TEST_F(MaildirTest, BadSourceFailsAndLeavesNothing) {
    Maildir maildir(root_, "h", io_);
    auto file = maildir.write("alice", "prefix", -1, 0, 10);
    ASSERT_FALSE(file);
    EXPECT_TRUE(names_in(root_ + "/alice/Maildir/tmp").empty());
}

TEST_F(MaildirTest, Discard) {
    int fd = source("message");
    Maildir maildir(root_, "h", io_);
    auto file = maildir.write("alice", "", fd, 0, 7);
    ASSERT_TRUE(file);
    maildir.discard(*file);
    EXPECT_EQ(file->fd, -1);
    EXPECT_TRUE(names_in(root_ + "/alice/Maildir/tmp").empty());
    EXPECT_TRUE(names_in(root_ + "/alice/Maildir/new").empty());
}

TEST_F(MaildirTest, ExistingMaildirIsReused) {
    int fd = source("one");
    Maildir maildir(root_, "h", io_);
    auto first = maildir.write("alice", "", fd, 0, 3);
    ASSERT_TRUE(first);
    ASSERT_TRUE(maildir.publish(*first));
    std::ofstream(root_ + "/alice/Maildir/cur/old:2,S") << "seen";
    auto second = maildir.write("alice", "", fd, 0, 3);
    ASSERT_TRUE(second);
    ASSERT_TRUE(maildir.publish(*second));
    EXPECT_EQ(names_in(root_ + "/alice/Maildir/new").size(), 2u);
    EXPECT_EQ(names_in(root_ + "/alice/Maildir/cur").size(), 1u);
}

TEST_F(MaildirTest, ThousandDeliveriesHaveUniqueNames) {
    int fd = source("x");
    Maildir maildir(root_, "h", io_);
    Maildir other(root_, "h", io_);  // a second object in the same process shares the counter
    std::set<std::string> names;
    for (int i = 0; i < 1000; ++i) {
        auto file = (i % 2 ? other : maildir).write("alice", "", fd, 0, 1);
        ASSERT_TRUE(file) << file.error().message;
        names.insert(fs::path(file->new_path).filename());
        ASSERT_TRUE(maildir.publish(*file));
    }
    EXPECT_EQ(names.size(), 1000u);
    EXPECT_EQ(names_in(root_ + "/alice/Maildir/new").size(), 1000u);
    EXPECT_TRUE(names_in(root_ + "/alice/Maildir/tmp").empty());
}

TEST_F(MaildirTest, UserNamesThatCouldEscapeAreRefused) {
    int fd = source("x");
    Maildir maildir(root_, "h", io_);
    for (std::string_view user :
         {std::string_view(""), std::string_view("."), std::string_view(".."),
          std::string_view("a/b"), std::string_view("/etc"), std::string_view("../x"),
          std::string_view("x/.."), std::string_view("a\0b", 3), std::string_view("a\nb"),
          std::string_view("a\tb"), std::string_view("a\x7f")}) {
        auto file = maildir.write(user, "", fd, 0, 1);
        ASSERT_FALSE(file) << user;
        EXPECT_EQ(file.error().code, ErrorCode::kInvalid);
    }
    EXPECT_FALSE(fs::exists(root_));
    // Dots inside a name are fine.
    auto dotted = maildir.write("a..b", "", fd, 0, 1);
    ASSERT_TRUE(dotted);
    maildir.discard(*dotted);
}

TEST_F(MaildirTest, RootThatIsAFileFails) {
    std::ofstream(dir_ + "/file") << "not a directory";
    int fd = source("x");
    Maildir maildir(dir_ + "/file", "h", io_);
    auto file = maildir.write("alice", "", fd, 0, 1);
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace tern::delivery
