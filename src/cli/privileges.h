// Least privilege for `tern serve` ([server] user, docs/operations.md): whom to become once the
// ports are bound, and giving root up for good.
#pragma once

#include <optional>

#include "base/error.h"
#include "base/run_as.h"
#include "config/config.h"
#include "log/logger.h"

namespace tern::cli {

// The user to become once the ports are bound, or none when [server] user is empty or is who
// runs tern already. Started as anyone else, an error before anything is made.
[[nodiscard]] Result<std::optional<RunAs>> user_to_become(const config::Config& config);

// Gives the data directory (and the databases and log file named outside it) to `user`, then
// becomes it for good; checks that the user can use the data directory.
[[nodiscard]] Result<void> give_up_root(const config::Config& config, const RunAs& user,
                                        log::Logger& log);

}  // namespace tern::cli
