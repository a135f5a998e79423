// run_as: looking up the daemon's user, handing it the data directory and becoming it.
#include "base/run_as.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
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

namespace {

constexpr std::uint32_t kBindBit = 1u << CAP_NET_BIND_SERVICE;

// Sets the calling thread's permitted and effective capabilities to `bits` (of the first 32),
// nothing inheritable. Capability sets and the keep-caps flag are per thread: threads started
// before lose every capability at the change of user id; the calling thread keeps what this
// leaves, and threads it starts later inherit it (the daemon's main thread runs event loop 0,
// where a reload binds).
bool set_capabilities(std::uint32_t bits) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    data[0].permitted = data[0].effective = bits;
    return ::syscall(SYS_capset, &header, data) == 0;
}

// Whether the calling thread holds no capability but, at most, binding low ports.
bool at_most_bind_capability() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return (data[0].permitted & ~kBindBit) == 0 && data[1].permitted == 0 &&
           data[0].inheritable == 0 && data[1].inheritable == 0;
}

}  // namespace

Result<bool> become(const RunAs& user) {
    // glibc applies set*id to every thread of the process (the verifier's threads included).
    if (::initgroups(user.name.c_str(), user.gid) != 0)
        return std::unexpected(Error::from_errno(errno, "initgroups " + user.name));
    if (::setresgid(user.gid, user.gid, user.gid) != 0)
        return std::unexpected(Error::from_errno(errno, "setgid " + std::to_string(user.gid)));
    // No capability but binding low ports can come back, not even through an exec.
    for (int cap = 0; cap < 64; ++cap)
        if (cap != CAP_NET_BIND_SERVICE) ::prctl(PR_CAPBSET_DROP, cap, 0L, 0L, 0L);
    // Capabilities survive the change of user id only on request, and only until dropped.
    bool keep = ::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == 0;
    if (::setresuid(user.uid, user.uid, user.uid) != 0)
        return std::unexpected(Error::from_errno(errno, "setuid " + std::to_string(user.uid)));
    keep = keep && set_capabilities(kBindBit);
    ::prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    if (!keep && !set_capabilities(0))
        return std::unexpected(Error::from_errno(errno, "dropping capabilities"));
    if (!at_most_bind_capability())
        return fail(ErrorCode::kPermanent, "capabilities left after becoming " + user.name);
    if (::setuid(0) == 0 || ::geteuid() == 0)
        return fail(ErrorCode::kPermanent, "root could be taken back after becoming " + user.name);
    return keep;
}

}  // namespace tern
