// `tern srs forward|reverse ADDRESS`: the SRS codec of the daemon with the configured secrets,
// for operators checking an address and for interoperability tests (docs/srs.md).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace tern::cli {

struct SrsCommand {
    std::string action;  // "forward" or "reverse"; empty when `srs` was not given
    std::string address;
    std::string domain;                // forward: the forwarder's domain; "" = srs.domain, else
                                       // the first local domain
    std::optional<std::int64_t> time;  // --time: unix seconds instead of now
};

// Adds `srs` with `forward` and `reverse` to `app`.
void add_srs_command(CLI::App& app, SrsCommand& command);

// Prints the SRS address (forward) or the address it stands for (reverse). Returns 0, 1 when
// the address does not reverse (the reason on standard error) or no secret is configured.
int run_srs_command(const SrsCommand& command, const config::Config& config);

}  // namespace tern::cli
