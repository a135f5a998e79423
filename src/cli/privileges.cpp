// Least privilege for `tern serve` ([server] user): see privileges.h and docs/operations.md.
#include "cli/privileges.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tern::cli {

Result<std::optional<RunAs>> user_to_become(const config::Config& config) {
    if (config.user.empty()) return std::nullopt;
    auto user = lookup_user(config.user);
    if (!user) return std::unexpected(user.error());
    if (::geteuid() == user->uid) return std::nullopt;
    if (::geteuid() != 0)
        return fail(ErrorCode::kInvalid,
                    fmt::format("server.user = \"{}\": started as uid {}, which cannot become "
                                "another user; start tern as root or as {}",
                                config.user, ::geteuid(), config.user));
    return *user;
}

Result<void> give_up_root(const config::Config& config, const RunAs& user, log::Logger& log) {
    auto changed = give_tree(config.data_dir, user);
    if (!changed) return std::unexpected(changed.error());
    // The suppression list's WAL files too: `tern suppress` run as root may have left them.
    for (const auto& file :
         {config.auth_database, config.policy_database, config.api_keys_file, config.log_file,
          config.suppression_database, config.suppression_database + "-wal",
          config.suppression_database + "-shm"}) {
        if (file.empty()) continue;
        if (auto r = give_path(file, user); !r) return std::unexpected(r.error());
    }
    auto became = become(user);
    if (!became) return std::unexpected(became.error());
    // A data directory under a parent the user cannot search would fail every delivery later.
    if (::access(config.data_dir.c_str(), R_OK | W_OK | X_OK) != 0)
        return fail(ErrorCode::kInvalid,
                    fmt::format("server.user = \"{}\" cannot use data_dir {} ({}): its parent "
                                "directories must be searchable by that user",
                                user.name, config.data_dir, std::strerror(errno)));
    log.info("privileges", {{"user", user.name},
                            {"uid", user.uid},
                            {"gid", user.gid},
                            {"given", *changed},
                            {"bind_below_1024", *became ? "kept" : "no"}});
    return {};
}

}  // namespace tern::cli
