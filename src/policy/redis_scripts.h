// The Lua scripts that make the Redis store's operations atomic: GCRA rate allowances and the
// greylisting rule, each the same rule as the in-memory code (rate.cpp, judge_attempt), in
// microseconds of the caller's clock.
#pragma once

#include <string_view>

namespace tern::policy::redis_scripts {

// KEYS[1] the allowance; ARGV now, period, interval (microseconds), n. Returns 1 (taken) or 0.
extern const std::string_view kTake;

// KEYS[1] the triplet, KEYS[2] the network's passes; ARGV now, delay, retry_window, max_age
// (microseconds), auto_allowlist. Returns {pass 0|1, wait in microseconds, why}.
extern const std::string_view kGreylist;

}  // namespace tern::policy::redis_scripts
