// File helpers of the spool: loops around write(2) and pread(2), directory listing.
#include "spool/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace tern::spool {

Result<void> write_all(int fd, std::string_view bytes, const std::string& what,
                       std::size_t* written) {
    if (written) *written = 0;
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(Error::from_errno(errno, "write " + what));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
        if (written) *written += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> pread_all(int fd, char* buf, std::size_t n, std::uint64_t offset,
                       const std::string& what) {
    while (n > 0) {
        ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return std::unexpected(Error::from_errno(errno, "read " + what));
        if (got == 0) return std::unexpected(Error::from_errno(ENODATA, "read " + what));
        buf += got;
        n -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
    return {};
}

Result<UniqueFd> open_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open " + path));
    return UniqueFd(fd);
}

std::vector<std::string> list_dir(const std::string& path) {
    std::vector<std::string> names;
    DIR* d = ::opendir(path.c_str());
    if (!d) return names;
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
}

}  // namespace tern::spool
