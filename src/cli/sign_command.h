// `tern mailauth sign --domain D [--selector S] --key FILE < message`: the message on standard
// input printed with Tern's DKIM-Signature fields prepended (one per key: dual signing with an
// RSA and an Ed25519 key is --key twice).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"

namespace tern::cli {

struct SignCommand {
    std::string domain;
    std::vector<std::string> selectors;  // one per key file, or none: from DOMAIN.SELECTOR.key
    std::vector<std::string> key_files;
    std::string algorithm;  // "" = each key's own; else every key must be of it
    std::string canonicalization = "relaxed/relaxed";
    std::int64_t expire_after = 0;  // seconds, for x=; 0: no x=
    std::string identity;           // i=
    bool body_length = false;       // l=
};

// Adds `sign` with its options under `mailauth`; returns it.
CLI::App* add_sign_command(CLI::App& mailauth, SignCommand& command);

// Reads a message on standard input and prints it with the DKIM-Signature fields prepended
// (line ends as in the input). Exit code 0, 1 on a refusal, 2 on a usage error.
int run_sign_command(const SignCommand& command, const config::Config& config);

}  // namespace tern::cli
