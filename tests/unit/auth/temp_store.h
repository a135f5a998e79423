// Test helpers for a real account database: a temporary directory removed after the test,
// argon2id costs low enough for unit tests, and a look at SQLite's file locks from another process.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "auth/account_store.h"

namespace tern::auth::testing {

inline constexpr HashOptions kCheapHashing{Argon2Params{1024, 1, 1}, kMinScramIterations};

// A fresh directory under /tmp; path() is empty when it could not be made.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/tern-auth-XXXXXX";
        if (mkdtemp(tmpl)) path_ = tmpl;
    }
    ~TempDir() {
        if (!path_.empty()) std::filesystem::remove_all(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// create_file, then open: how `tern user` gets its one connection.
inline Result<std::unique_ptr<AccountStore>> create_and_open(const std::string& path,
                                                             HashOptions options = kCheapHashing) {
    if (auto made = AccountStore::create_file(path); !made) return std::unexpected(made.error());
    return AccountStore::open(path, options);
}

// Whether another process (`tern user`, say) finds SQLite's SHARED lock held on the database
// file at `path`: the lock that every connection in WAL mode holds while it is open, and that
// stops the last connection of another process from checkpointing and removing the WAL and
// the shared-memory index at its close. A child process asks the kernel (F_GETLK), since this
// process sees no conflict with its own locks; the child only opens, asks and exits, so it
// needs nothing from SQLite and closes nothing of ours.
inline bool another_process_sees_shared_lock(const std::string& path) {
    constexpr off_t kSharedFirst = 0x40000000 + 2;  // SQLite's PENDING_BYTE + 2 (os_unix.c)
    constexpr off_t kSharedSize = 510;
    pid_t child = fork();
    if (child == 0) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        struct flock probe {};
        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        probe.l_start = kSharedFirst;
        probe.l_len = kSharedSize;
        if (fd < 0 || fcntl(fd, F_GETLK, &probe) != 0) _exit(2);
        _exit(probe.l_type == F_RDLCK && probe.l_pid == getppid() ? 0 : 1);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace tern::auth::testing
