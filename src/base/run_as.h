// run_as: least privilege for the daemon. Started as root, Tern binds its ports and opens its
// files, hands the data directory to an unprivileged user and then becomes that user for good
// (docs/operations.md, "Least privilege").
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"

namespace tern {

// The account the daemon runs as: [server] user, looked up in the system's user database.
struct RunAs {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;  // the user's primary group
};

// Looks `name` up (getpwnam_r). Root itself is refused: it would not give anything up.
[[nodiscard]] Result<RunAs> lookup_user(const std::string& name);

// Gives every entry under `root` (itself included, symbolic links not followed) to `user`,
// changing only those owned by someone else. Returns how many entries were changed.
[[nodiscard]] Result<std::size_t> give_tree(const std::string& root, const RunAs& user);

// Gives the one file or directory `path` (a symbolic link itself, never what it points to) to
// `user` and its group; false when it was theirs already or does not exist.
[[nodiscard]] Result<bool> give_path(const std::filesystem::path& path, const RunAs& user);

// Becomes `user` for good: supplementary groups, then group, then user id, for every thread
// of the process; checks that root cannot be taken back. Only the capability to bind ports
// below 1024 (CAP_NET_BIND_SERVICE) is kept, so that a reload can open a new listener there;
// the result says whether it was kept (a container may not grant it).
[[nodiscard]] Result<bool> become(const RunAs& user);

}  // namespace tern
