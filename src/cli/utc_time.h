// utc_time: how the `tern` subcommands print a Unix time, "2024-05-01 12:00:00Z" (UTC), so
// that every listing shows times the same way.
#pragma once

#include <cstdint>
#include <string>

namespace tern::cli {

// "YYYY-MM-DD HH:MM:SSZ"; "-" for 0, which the listings use for "never".
std::string utc_time(std::int64_t unix_seconds);

}  // namespace tern::cli
