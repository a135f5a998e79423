// `tern mailauth verify [--dns IP@PORT] [--ip IP --helo NAME --sender ADDRESS] < message`: the
// DKIM results of a message file, SPF when the client IP is given, DMARC, and the
// Authentication-Results field Tern would add, all from the daemon's own evaluators.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/spf_command.h"
#include "config/config.h"

namespace tern::cli {

struct VerifyCommand {
    SpfInputs spf;            // SPF is checked when spf.ip is set
    std::string dns;          // --dns IP@PORT
    std::string authserv_id;  // "" = the configured hostname
};

// Adds `verify` with its options under `mailauth`; returns it.
CLI::App* add_verify_command(CLI::App& mailauth, VerifyCommand& command);

// Reads a message on standard input and prints one line per result (RFC 8601 resinfo: DKIM per
// signature or dkim=none, spf= when --ip was given, dmarc=), then the Authentication-Results
// field. Exit code 0 once the message was evaluated, 1 when the resolver cannot be made, 2 for
// unusable arguments.
int run_verify_command(const VerifyCommand& command, const config::Config& config);

}  // namespace tern::cli
