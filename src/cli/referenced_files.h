// The files a configuration names (aliases, sender map, certificates, CA file, DNS trust
// anchor) checked the way `tern serve` loads them at start, so `tern check-config` refuses
// what the daemon would refuse.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace tern::cli {

// One message per file that cannot be loaded ("auth.sender_map: FILE:LINE: what"); empty
// when all load. Reads files only: nothing is created or written.
std::vector<std::string> check_referenced_files(const config::Config& config);

}  // namespace tern::cli
