// Each subcommand, once parsed, leaves in tools.run the call that carries it out, so main.cpp
// needs one line to run whichever was chosen.
#include "cli/mailauth_command.h"

namespace tern::cli {
namespace {

// Makes `sub` set tools.run to run(command, config) when the command line chose it.
template <class Command>
void on_chosen(CLI::App* sub, MailauthTools& tools, Command& command,
               int (*run)(const Command&, const config::Config&)) {
    sub->callback([&tools, &command, run] {
        tools.run = [&command, run](const config::Config& config) { return run(command, config); };
    });
}

}  // namespace

void add_mailauth_commands(CLI::App& app, MailauthTools& tools) {
    auto* mailauth =
        app.add_subcommand("mailauth", "Check and sign mail as the daemon does: SPF, DKIM, DMARC");
    mailauth->require_subcommand(1);
    mailauth->fallthrough();
    on_chosen(add_spf_command(*mailauth, tools.spf), tools, tools.spf, run_spf_command);
    on_chosen(add_verify_command(*mailauth, tools.verify), tools, tools.verify, run_verify_command);
    on_chosen(add_sign_command(*mailauth, tools.sign), tools, tools.sign, run_sign_command);
    on_chosen(add_dmarc_command(*mailauth, tools.dmarc), tools, tools.dmarc, run_dmarc_command);

    auto* dkim = app.add_subcommand("dkim", "Make DKIM keys and check their DNS records");
    dkim->require_subcommand(1);
    dkim->fallthrough();
    on_chosen(add_dkim_keygen_command(*dkim, tools.keygen), tools, tools.keygen,
              run_dkim_keygen_command);
    on_chosen(add_dkim_check_command(*dkim, tools.check), tools, tools.check,
              run_dkim_check_command);
}

}  // namespace tern::cli
