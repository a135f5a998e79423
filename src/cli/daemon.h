// The `tern serve` daemon: builds every component from the configuration, recovers the
// spool, serves until SIGTERM, then shuts down in order (RFC 5321 421 4.3.2 to late sessions).
#pragma once

#include <string>

#include "config/config.h"

namespace tern::cli {

// Runs the daemon; returns the process exit code. `config_path` (empty: the embedded defaults)
// is read again by a reload for the settings that can change while it runs.
int serve(const config::Config& config, const std::string& config_path = {});

}  // namespace tern::cli
