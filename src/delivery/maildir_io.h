// MaildirIo: the file system calls of a Maildir delivery behind one interface, so that a test can
// make any one of them fail (LevelDB's Env, cut down to the calls delivery/ makes).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace tern::spool {
class GroupSync;
}

namespace tern::delivery {

// Each call behaves as the POSIX call of the same name: on failure it returns -1 and sets errno.
// A test derives from this class and overrides the call it wants to fail.
class MaildirIo {
  public:
    // Durability requests (submit) go to `sync`, which must outlive this object.
    explicit MaildirIo(spool::GroupSync& sync) : sync_(sync) {}
    virtual ~MaildirIo() = default;
    MaildirIo(const MaildirIo&) = delete;
    MaildirIo& operator=(const MaildirIo&) = delete;

    virtual int open(const std::string& path, int flags, mode_t mode = 0);
    virtual int close(int fd);
    virtual ssize_t pread(int fd, void* buffer, std::size_t size, off_t offset);
    virtual ssize_t write(int fd, const void* data, std::size_t size);
    virtual int mkdir(const std::string& path, mode_t mode);
    virtual int stat(const std::string& path, struct stat* st);
    virtual int rename(const std::string& from, const std::string& to);
    virtual int unlink(const std::string& path);
    virtual int fsync(int fd);

    // Makes the data of `fd` and the entries of directory `dir_fd` durable (either may be -1),
    // in a round that starts within kJoinDelay, possibly with other requests, then calls
    // `done(errno or 0)` on another thread. Both descriptors must stay open until then.
    virtual void submit(int fd, int dir_fd, std::move_only_function<void(int)> done);
    // How long a delivery's sync may wait for a round that runs anyway.
    static constexpr std::chrono::milliseconds kJoinDelay{3};

  private:
    spool::GroupSync& sync_;
};

}  // namespace tern::delivery
