// make_durable_dirs: mkdir of each missing component, then fsync of the directory that now
// names it, so that a data directory made at first start is still there after a power cut.
#include "base/durable_dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace tern {

Result<void> sync_dir(const std::string& path) {
    UniqueFd fd(::open(path.empty() ? "." : path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "open " + path));
    if (::fsync(fd.get()) != 0) return std::unexpected(Error::from_errno(errno, "fsync " + path));
    return {};
}

Result<void> make_durable_dirs(const std::string& path, mode_t mode) {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        std::string partial = path.substr(0, pos);
        if (partial.empty() || partial.back() == '/') continue;
        if (::mkdir(partial.c_str(), mode) != 0) {
            if (errno != EEXIST)
                return std::unexpected(Error::from_errno(errno, "mkdir " + partial));
            struct stat st {};
            if (::stat(partial.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                return std::unexpected(
                    Error{ErrorCode::kInvalid, partial + " exists and is not a directory"});
            continue;
        }
        // The new entry lives in the parent directory: sync that one.
        auto slash = partial.rfind('/');
        std::string parent;
        if (slash == std::string::npos)
            parent.assign(".");
        else if (slash == 0)
            parent.assign("/");
        else
            parent.assign(partial, 0, slash);
        if (auto r = sync_dir(parent); !r) return r;
    }
    return {};
}

std::string parent_directory(const std::string& path) {
    std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace tern
