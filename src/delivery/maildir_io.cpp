// MaildirIo: the real file system calls, and durability requests handed to the spool's group
// sync thread so that they never block an event loop.
#include "delivery/maildir_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "spool/group_sync.h"

namespace tern::delivery {

int MaildirIo::open(const std::string& path, int flags, mode_t mode) {
    return ::open(path.c_str(), flags, mode);
}

int MaildirIo::close(int fd) {
    return ::close(fd);
}

ssize_t MaildirIo::pread(int fd, void* buffer, std::size_t size, off_t offset) {
    return ::pread(fd, buffer, size, offset);
}

ssize_t MaildirIo::write(int fd, const void* data, std::size_t size) {
    return ::write(fd, data, size);
}

int MaildirIo::mkdir(const std::string& path, mode_t mode) {
    return ::mkdir(path.c_str(), mode);
}

int MaildirIo::stat(const std::string& path, struct stat* st) {
    return ::stat(path.c_str(), st);
}

int MaildirIo::rename(const std::string& from, const std::string& to) {
    return std::rename(from.c_str(), to.c_str());
}

int MaildirIo::unlink(const std::string& path) {
    return ::unlink(path.c_str());
}

int MaildirIo::fsync(int fd) {
    return ::fsync(fd);
}

void MaildirIo::submit(int fd, int dir_fd, std::move_only_function<void(int)> done) {
    // A delivery may wait a little for a round: under load it joins the round of the next
    // commit instead of starting rounds of its own between them, which the sessions waiting
    // for their 250 would have to wait for (docs/spool.md, group commit).
    sync_.submit_within(kJoinDelay, fd, dir_fd, std::move(done));
}

}  // namespace tern::delivery
