// `tern dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519] [--dir DIR]`: a new DKIM
// private key in a file of its own and the DNS TXT record that publishes it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "config/config.h"

namespace tern::cli {

struct DkimKeygenCommand {
    std::string domain;
    std::string selector;           // "" = ALGORITHM-YYYYMM
    std::string algorithm = "rsa";  // rsa or ed25519
    int bits = 2048;                // RSA only
    std::string dir = ".";          // where DOMAIN.SELECTOR.key is written
};

// Adds `keygen` with its options under `dkim`; returns it.
CLI::App* add_dkim_keygen_command(CLI::App& dkim, DkimKeygenCommand& command);

// Writes the private key (mode 0600, never over an existing file) and prints the TXT record to
// publish. Exit code 0, or 1 with the reason on standard error.
int run_dkim_keygen_command(const DkimKeygenCommand& command, const config::Config& config);

}  // namespace tern::cli
