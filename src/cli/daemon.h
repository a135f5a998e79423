// The `tern serve` daemon: builds every component from the configuration, recovers the
// spool, serves until SIGTERM, then shuts down in order (RFC 5321 421 4.3.2 to late sessions).
#pragma once

#include "config/config.h"

namespace tern::cli {

// Runs the daemon; returns the process exit code.
int serve(const config::Config& config);

}  // namespace tern::cli
