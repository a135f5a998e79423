// run_as: looking up the daemon's user, handing it the data directory and becoming it.
#include "base/run_as.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace tern {

Result<RunAs> lookup_user(const std::string& name) {
    if (name.empty()) return fail(ErrorCode::kInvalid, "server.user: no user name");
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    int err = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (err != 0) return std::unexpected(Error::from_errno(err, "getpwnam " + name));
    if (found == nullptr)
        return fail(ErrorCode::kNotFound, "server.user: no such user '" + name + "'");
    if (found->pw_uid == 0)
        return fail(ErrorCode::kInvalid, "server.user: '" + name + "' is root (uid 0)");
    return RunAs{name, found->pw_uid, found->pw_gid};
}

Result<bool> give_path(const std::filesystem::path& path, const RunAs& user) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return false;  // absent, or removed while a tree was walked
        return std::unexpected(Error::from_errno(errno, "lstat " + path.string()));
    }
    if (st.st_uid == user.uid && st.st_gid == user.gid) return false;
    if (::lchown(path.c_str(), user.uid, user.gid) != 0)
        return std::unexpected(Error::from_errno(errno, "chown " + path.string()));
    return true;
}

Result<std::size_t> give_tree(const std::string& root, const RunAs& user) {
    namespace fs = std::filesystem;
    std::size_t changed = 0;
    auto first = give_path(root, user);
    if (!first) return std::unexpected(first.error());
    changed += *first ? 1 : 0;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    if (ec) return fail(ErrorCode::kIo, "cannot read " + root + ": " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return fail(ErrorCode::kIo, "cannot read under " + root + ": " + ec.message());
        auto one = give_path(it->path(), user);
        if (!one) return std::unexpected(one.error());
        changed += *one ? 1 : 0;
    }
    if (ec) return fail(ErrorCode::kIo, "cannot read under " + root + ": " + ec.message());
    return changed;
}

Result<void> become(const RunAs& user) {
    // glibc applies set*id to every thread of the process (the verifier's threads included).
    if (::initgroups(user.name.c_str(), user.gid) != 0)
        return std::unexpected(Error::from_errno(errno, "initgroups " + user.name));
    if (::setresgid(user.gid, user.gid, user.gid) != 0)
        return std::unexpected(Error::from_errno(errno, "setgid " + std::to_string(user.gid)));
    if (::setresuid(user.uid, user.uid, user.uid) != 0)
        return std::unexpected(Error::from_errno(errno, "setuid " + std::to_string(user.uid)));
    if (::setuid(0) == 0 || ::geteuid() == 0)
        return fail(ErrorCode::kPermanent, "root could be taken back after becoming " + user.name);
    return {};
}

}  // namespace tern
