// `tern suppress ...`: lists, adds and deletes entries of the suppression list
// (docs/suppression.md), in its SQLite file; a running daemon sees each change at once.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace tern::cli {

struct SuppressCommand {
    std::string action;                  // list, add, del
    std::vector<std::string> addresses;  // add, del
    std::string file;                    // add: more addresses, one a line ("-": stdin)
    std::string reason = "manual";       // add: bounce, complaint, unsubscribe, manual
    std::string detail;                  // add: a note kept with the entry
    std::string tenant;                  // add, del, list: a tenant's list ("" the global one)
    bool json = false;                   // list: print JSON
    std::string database;                // [suppression] database
    std::string user;                    // [server] user: the daemon's user, who must use it
};

// Adds `suppress` with `list`, `add` and `del` to `app`.
void add_suppress_command(CLI::App& app, SuppressCommand& command);

// The process exit code: 0 done, 1 refused (a bad address, reason or tenant; del of an address
// not on the list), 2 when the database cannot be used.
int run_suppress_command(const SuppressCommand& command);

}  // namespace tern::cli
