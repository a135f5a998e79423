// `tern queue ...`: sends a queue command to the running daemon over its control socket and
// prints the answer for a person, or as JSON with --json.
#pragma once

#include <string>

namespace tern::cli {

struct QueueCommand {
    std::string action;       // list, show, retry, hold, release, delete, bounce, quarantine
    std::string id;           // queue id, when the action takes one
    bool all = false;         // retry --all / release --all
    bool json = false;        // print the daemon's JSON reply
    std::string socket_path;  // <data_dir>/control.sock
    std::string spool_dir;    // <data_dir>/spool: quarantine is read from disk, daemon or not
};

// Returns the process exit code: 0 on success, 1 when the daemon refused, 2 when unreachable.
int run_queue_command(const QueueCommand& command);

}  // namespace tern::cli
