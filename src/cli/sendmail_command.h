// `tern sendmail` (also when Tern is run as `sendmail` or `mailq`): the command every Unix
// program hands mail to (docs/sendmail.md). The message goes into the maildrop, so it works
// whether the daemon runs or not; -bp lists the queue, -q retries it, -bs speaks SMTP on
// standard input and output through the daemon's MX listener.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::cli {

// sendmail's exit statuses (sysexits.h), as programs that call it expect.
enum SendmailExit : int {
    kExOk = 0,
    kExUsage = 64,        // a bad option or no recipient
    kExDataErr = 65,      // a bad address, or the message over the size limit
    kExUnavailable = 69,  // -bs without a daemon
    kExSoftware = 70,
    kExTempFail = 75,  // the maildrop could not be written: try again
    kExConfig = 78,    // the configuration cannot be read
};

// Runs sendmail with its arguments (without argv[0]); `as_mailq` when called as mailq.
int run_sendmail(const std::vector<std::string>& args, bool as_mailq);

}  // namespace tern::cli
