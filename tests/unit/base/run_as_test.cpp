// Unit tests of least privilege (base/run_as.h): looking up the daemon's user, handing it a
// directory tree, and becoming it for good (in a child process: it cannot be undone).
#include "base/run_as.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_files.h"

namespace tern {
namespace {

struct stat owner_of(const std::string& path) {
    struct stat st {};
    ::lstat(path.c_str(), &st);
    return st;
}

TEST(RunAs, LooksUpUsersAndRefusesRoot) {
    auto nobody = lookup_user("nobody");
    ASSERT_TRUE(nobody) << nobody.error().message;
    EXPECT_EQ(nobody->name, "nobody");
    EXPECT_NE(nobody->uid, 0u);

    auto root = lookup_user("root");
    ASSERT_FALSE(root);
    EXPECT_NE(root.error().message.find("is root"), std::string::npos);

    auto missing = lookup_user("tern-no-such-user-x");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_NE(missing.error().message.find("no such user 'tern-no-such-user-x'"),
              std::string::npos);

    EXPECT_FALSE(lookup_user(""));
}

TEST(RunAs, GivesTheTreeButNotWhatLinksPointTo) {
    if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
    testing::TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    std::filesystem::create_directories(dir.path() + "/spool/active");
    std::ofstream(dir.path() + "/spool/active/m1") << "x";
    std::ofstream(dir.path() + "/outside") << "not ours";
    std::filesystem::create_symlink(dir.path() + "/outside", dir.path() + "/spool/link");
    // The link's target stays root's: only entries inside the tree are given away.
    auto user = lookup_user("nobody");
    ASSERT_TRUE(user);

    auto changed = give_tree(dir.path() + "/spool", *user);
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(*changed, 4u);  // spool, active, m1, link
    for (auto p : {"/spool", "/spool/active", "/spool/active/m1", "/spool/link"}) {
        EXPECT_EQ(owner_of(dir.path() + p).st_uid, user->uid) << p;
        EXPECT_EQ(owner_of(dir.path() + p).st_gid, user->gid) << p;
    }
    EXPECT_EQ(owner_of(dir.path() + "/outside").st_uid, 0u);

    // A second pass changes nothing.
    auto again = give_tree(dir.path() + "/spool", *user);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0u);

    EXPECT_FALSE(give_tree(dir.path() + "/missing", *user));
}

TEST(RunAs, GivesOnePathAndALinkNotItsTarget) {
    if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
    testing::TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    auto user = lookup_user("nobody");
    ASSERT_TRUE(user);
    std::ofstream(dir.path() + "/log") << "x";
    std::ofstream(dir.path() + "/shadow") << "root's";
    std::filesystem::create_symlink(dir.path() + "/shadow", dir.path() + "/db");

    auto file = give_path(dir.path() + "/log", *user);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_TRUE(*file);
    EXPECT_EQ(owner_of(dir.path() + "/log").st_uid, user->uid);
    auto again = give_path(dir.path() + "/log", *user);
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);  // theirs already

    // A link named as a file is given itself; the file it points to stays root's.
    ASSERT_TRUE(give_path(dir.path() + "/db", *user));
    EXPECT_EQ(owner_of(dir.path() + "/db").st_uid, user->uid);
    EXPECT_EQ(owner_of(dir.path() + "/shadow").st_uid, 0u);

    auto missing = give_path(dir.path() + "/missing", *user);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST(RunAs, BecomesTheUserForGood) {
    if (::geteuid() != 0) GTEST_SKIP() << "changing user needs root";
    auto user = lookup_user("nobody");
    ASSERT_TRUE(user);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Exit codes: 0 all held, 1 become failed, 2 wrong ids, 3 root came back.
        if (!become(*user)) ::_exit(1);
        uid_t r, e, s;
        ::getresuid(&r, &e, &s);
        if (r != user->uid || e != user->uid || s != user->uid || ::getegid() != user->gid)
            ::_exit(2);
        if (::setuid(0) == 0 || ::seteuid(0) == 0) ::_exit(3);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tern
