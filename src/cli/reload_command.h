// `tern reload`: checks the configuration and the files it names as `tern check-config` does, then
// asks the running daemon over its control socket to reload as on SIGHUP (the log file opened
// again, the server certificates loaded again; docs/operations.md). A file that fails the check
// is refused and the daemon is not asked.
#pragma once

#include <string>

#include "config/config.h"

namespace tern::cli {

// `config_path` names the file in messages ("" for the embedded defaults). Returns the exit code:
// 0 reloaded, 1 refused (a bad file, or the daemon's reload failed), 2 the daemon out of reach.
int run_reload_command(const config::Config& config, const std::string& config_path, bool json);

}  // namespace tern::cli
