// `tern dkim check DOMAIN --selector S --key FILE [--dns IP@PORT]`: looks up the published
// DKIM key record and says whether it is usable and matches the private key.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "config/config.h"

namespace tern::cli {

struct DkimCheckCommand {
    std::string domain;
    std::string selector;
    std::string key_file;
    std::string dns;  // --dns IP@PORT
};

// Adds `check` with its options under `dkim`; returns it.
CLI::App* add_dkim_check_command(CLI::App& dkim, DkimCheckCommand& command);

// Looks up SELECTOR._domainkey.DOMAIN and says what it publishes and whether it matches the
// key file. Exit code 0 when the record is usable and matches, 1 otherwise, 2 for a bad --dns.
int run_dkim_check_command(const DkimCheckCommand& command, const config::Config& config);

}  // namespace tern::cli
