// `tern feedback read [FILE] [--to ADDRESS]` and `tern feedback verp ID RECIPIENT | --decode
// ADDRESS`: the daemon's report reader and VERP codec with the configured secrets and bounce
// rules, for operators checking a report that came back and for interoperability tests
// (docs/feedback.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "config/config.h"

namespace tern::cli {

struct FeedbackCommand {
    std::string action;  // "read" or "verp"; empty when `feedback` was not given
    std::string file;    // read: the message; "" or "-" for standard input
    std::string to;      // read: the address it came to, to show the events it makes
    std::string id;      // verp: the queue id
    std::string recipient;
    std::string decode;  // verp --decode: the address to read back
};

void add_feedback_command(CLI::App& app, FeedbackCommand& command);

// read: prints the report as JSON (and the events for --to); 0, or 1 when the file cannot be
// read. verp: prints the address (or the id and recipient it stands for); 1 when it cannot.
int run_feedback_command(const FeedbackCommand& command, const config::Config& config);

}  // namespace tern::cli
