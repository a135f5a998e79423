// Unit tests of least privilege (base/run_as.h): looking up the daemon's user, handing it a
// directory tree, and becoming it for good (in a child process: it cannot be undone).
#include "base/run_as.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

// A capability set of /proc/self/status ("CapBnd", "CapEff"...), as bits.
std::uint64_t capability_set(const std::string& name) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with(name + ":"))
            return std::stoull(line.substr(name.size() + 1), nullptr, 16);
    return ~0ull;
}

// The lowest port any user may bind (0 in some containers: then binding proves nothing).
int unprivileged_port_start() {
    std::ifstream in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    int port = 1024;
    in >> port;
    return port;
}

TEST(RunAs, BecomesTheUserForGood) {
    if (::geteuid() != 0) GTEST_SKIP() << "changing user needs root";
    auto user = lookup_user("nobody");
    ASSERT_TRUE(user);
    constexpr std::uint64_t kBind = 1ull << 10;  // CAP_NET_BIND_SERVICE
    bool grantable = (capability_set("CapBnd") & kBind) != 0;
    bool low_ports_closed = unprivileged_port_start() > 999;
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Exit codes: 0 all held, 1 become failed, 2 wrong ids, 3 root came back, 4 a
        // capability other than binding low ports left (or that one lost where it could be
        // kept), 5 a port below 1024 not bindable, 6 a file of root's readable.
        auto became = become(*user);
        if (!became) ::_exit(1);
        uid_t r, e, s;
        ::getresuid(&r, &e, &s);
        if (r != user->uid || e != user->uid || s != user->uid || ::getegid() != user->gid)
            ::_exit(2);
        if (::setuid(0) == 0 || ::seteuid(0) == 0) ::_exit(3);
        std::uint64_t kept = grantable ? kBind : 0;
        if (*became != grantable || capability_set("CapEff") != kept ||
            capability_set("CapPrm") != kept || capability_set("CapInh") != 0 ||
            (capability_set("CapBnd") & ~kBind) != 0)
            ::_exit(4);
        if (*became && low_ports_closed) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in at{};
            at.sin_family = AF_INET;
            at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            bool bound = false;
            for (std::uint16_t port = 900; port < 1000 && !bound; ++port) {
                at.sin_port = htons(port);
                bound = ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0;
            }
            ::close(fd);
            if (!bound) ::_exit(5);
        }
        if (::open("/etc/shadow", O_RDONLY) >= 0) ::_exit(6);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tern
