// The mail authentication tools on the command line: `tern mailauth spf|verify|sign|dmarc` and
// `tern dkim keygen|check`, registered in one call, and the choice of the one to run. Each
// command's options and work live in its own file (spf_command, verify_command, ...).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "cli/dkim_check_command.h"
#include "cli/dkim_keygen_command.h"
#include "cli/dmarc_command.h"
#include "cli/sign_command.h"
#include "cli/spf_command.h"
#include "cli/verify_command.h"
#include "config/config.h"

namespace tern::cli {

struct MailauthTools {
    SpfCommand spf;
    VerifyCommand verify;
    SignCommand sign;
    DmarcCommand dmarc;
    DkimKeygenCommand keygen;
    DkimCheckCommand check;
    // Set when one of these subcommands was chosen; gives the exit code.
    std::function<int(const config::Config&)> run;
};

// Adds `mailauth` (spf, verify, sign, dmarc) and `dkim` (keygen, check) to `app`, parsing into
// `tools`.
void add_mailauth_commands(CLI::App& app, MailauthTools& tools);

}  // namespace tern::cli
