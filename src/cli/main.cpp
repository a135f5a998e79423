// The `tern` command: serve, check-config, config-reference, queue, reload, user, mailauth, dkim,
// srs, feedback and sendmail (also as `sendmail` and `mailq` through a link named so).
// Argument parsing only; each subcommand's work lives in its component.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/apikey_command.h"
#include "cli/daemon.h"
#include "cli/feedback_command.h"
#include "cli/mailauth_command.h"
#include "cli/queue_command.h"
#include "cli/referenced_files.h"
#include "cli/reload_command.h"
#include "cli/sendmail_command.h"
#include "cli/srs_command.h"
#include "cli/suppress_command.h"
#include "cli/user_command.h"
#include "config/config.h"

namespace {

// Exit status of a command line that cannot be carried out as written (README.md, "Commands").
constexpr int kUsageError = 2;

tern::Result<tern::config::Config> load(const std::string& path) {
    if (path.empty()) return tern::config::defaults();
    return tern::config::load_file(path);
}

// -c/--config, accepted before the subcommand (on the top-level app) and after it (on each
// subcommand, where its help shows it); every copy is remembered to find the file given.
class ConfigOption {
  public:
    void add_to(CLI::App* app, const std::string& help) {
        options_.push_back(app->add_option("-c,--config", help)->type_name("FILE"));
    }

    // The file named, "" when none; nullopt when two different files were named.
    std::optional<std::string> path() const {
        std::string found;
        for (const CLI::Option* option : options_) {
            if (option->count() == 0) continue;
            for (const std::string& value : option->results()) {
                if (!found.empty() && value != found) return std::nullopt;
                found = value;
            }
        }
        return found;
    }

  private:
    std::vector<CLI::Option*> options_;
};

// sendmail's arguments when this run is a sendmail one: Tern called as `sendmail` or `mailq`
// (argv[0]), or `tern [-c FILE] sendmail ARGS...` (sendmail's options do not follow the rules of
// the other subcommands, so they are not given to CLI11). A -c before `sendmail` becomes -C.
std::optional<std::vector<std::string>> sendmail_args(int argc, char** argv, bool& as_mailq) {
    std::string invoked = std::filesystem::path(argv[0]).filename().string();
    as_mailq = invoked == "mailq";
    if (invoked == "sendmail" || as_mailq) return std::vector<std::string>(argv + 1, argv + argc);
    std::vector<std::string> prefix;
    int i = 1;
    if (i < argc &&
        (std::string_view(argv[i]) == "-c" || std::string_view(argv[i]) == "--config") &&
        i + 1 < argc) {
        prefix = {"-C", argv[i + 1]};
        i += 2;
    } else if (i < argc && std::string_view(argv[i]).starts_with("--config=")) {
        prefix = {"-C", std::string(std::string_view(argv[i]).substr(9))};
        i += 1;
    }
    if (i >= argc || std::string_view(argv[i]) != "sendmail") return std::nullopt;
    prefix.insert(prefix.end(), argv + i + 1, argv + argc);
    return prefix;
}

// The error and the usage of the (sub)command that failed, on standard error.
int usage_error(const CLI::App& app, const std::string& what) {
    std::cerr << "tern: " << what << "\n\n" << app.help();
    return kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
    bool as_mailq = false;
    if (auto args = sendmail_args(argc, argv, as_mailq))
        return tern::cli::run_sendmail(*args, as_mailq);
    CLI::App app{"Tern mail transfer agent"};
    app.require_subcommand(1);
    app.footer(
        "Exit status: 0 done, 1 refused or failed, 2 the command could not run (a usage "
        "error, the daemon or the account database out of reach).");

    ConfigOption config_option;
    config_option.add_to(&app, "Configuration file (TOML), for any subcommand");
    auto* serve = app.add_subcommand("serve", "Run the mail server");
    serve->fallthrough();
    config_option.add_to(serve, "Configuration file (TOML); embedded defaults without it");

    std::string check_path;
    auto* check =
        app.add_subcommand("check-config", "Validate a configuration file without starting");
    check->fallthrough();
    check->add_option("file", check_path, "Configuration file (or give it with -c)");
    config_option.add_to(check, "Configuration file (instead of the FILE argument)");
    bool config_only = false;
    check->add_flag("--config-only", config_only,
                    "Check the file itself, not the files it names (on a host without them)");

    app.add_subcommand("config-reference", "Print every configuration key as Markdown")
        ->fallthrough();

    tern::cli::QueueCommand queue_cmd;
    auto* queue = app.add_subcommand("queue", "Inspect and manage the queue of the running daemon");
    queue->require_subcommand(1);
    config_option.add_to(queue, "Configuration file, to find the data directory");
    queue->add_flag("--json", queue_cmd.json, "Print the reply as JSON");
    queue->fallthrough();
    for (auto [name, help] :
         {std::pair{"list", "List queued messages"},
          std::pair{"show", "Show one message and its recipients"},
          std::pair{"retry", "Retry deferred recipients now"},
          std::pair{"hold", "Hold a message (no delivery until released)"},
          std::pair{"release", "Release a held message"},
          std::pair{"delete", "Delete a message without notice"},
          std::pair{"bounce", "Return a message to its sender with a failure notice"},
          std::pair{"quarantine", "List spool files recovery set aside as damaged"}}) {
        auto* sub = queue->add_subcommand(name, help);
        sub->fallthrough();
        config_option.add_to(sub, "Configuration file, to find the data directory");
        std::string action = name;
        if (action != "list" && action != "quarantine") {
            auto* id = sub->add_option("id", queue_cmd.id, "Queue id");
            if (action == "retry" || action == "release") {
                sub->add_flag("--all", queue_cmd.all, "Every message");
            } else {
                id->required();
            }
        }
        sub->callback([&queue_cmd, action] { queue_cmd.action = action; });
    }

    tern::cli::UserCommand user_cmd;
    bool reload_json = false;
    auto* reload = app.add_subcommand(
        "reload",
        "Check the configuration, then have the running daemon open its log file and load its "
        "certificates again (as SIGHUP)");
    config_option.add_to(reload, "Configuration file, checked, and to find the data directory");
    reload->add_flag("--json", reload_json, "Print the reply as JSON");
    reload->fallthrough();

    auto* user = app.add_subcommand("user", "Manage the accounts of authenticated submission");
    user->require_subcommand(1);
    config_option.add_to(user, "Configuration file, to find the account database");
    user->fallthrough();
    for (auto [name, help] :
         {std::pair{"add", "Add an account; the password is read from standard input or a prompt"},
          std::pair{"passwd", "Change the password of an account (read as for add)"},
          std::pair{"del", "Delete an account"}, std::pair{"list", "List the accounts"}}) {
        auto* sub = user->add_subcommand(name, help);
        sub->fallthrough();
        config_option.add_to(sub, "Configuration file, to find the account database");
        std::string action = name;
        if (action == "list") {
            sub->add_flag("--json", user_cmd.json, "Print the list as JSON");
        } else {
            sub->add_option("address", user_cmd.address, "NAME@DOMAIN")->required();
        }
        sub->callback([&user_cmd, action] { user_cmd.action = action; });
    }

    tern::cli::ApiKeyCommand apikey_cmd;
    auto* apikey = app.add_subcommand("apikey", "Manage the keys of the HTTP sending API");
    apikey->require_subcommand(1);
    config_option.add_to(apikey, "Configuration file, to find the key file");
    apikey->fallthrough();
    for (auto [name, help] :
         {std::pair{"add", "Add a key for sender domains; the key is printed once"},
          std::pair{"del", "Delete a key"}, std::pair{"list", "List the keys"}}) {
        auto* sub = apikey->add_subcommand(name, help);
        sub->fallthrough();
        config_option.add_to(sub, "Configuration file, to find the key file");
        std::string action = name;
        if (action == "list") {
            sub->add_flag("--json", apikey_cmd.json, "Print the list as JSON");
        } else {
            sub->add_option("name", apikey_cmd.name, "The key's name")->required();
        }
        if (action == "add")
            sub->add_option("--domains", apikey_cmd.domains,
                            "Sender domains the key may use (example.org,*.example.org; '*' any)")
                ->delimiter(',')
                ->required();
        sub->callback([&apikey_cmd, action] { apikey_cmd.action = action; });
    }

    // Listed for --help; run_sendmail parses its own arguments (see sendmail_args above).
    app.add_subcommand("sendmail",
                       "Hand a message to Tern as sendmail does (-t, -i, -f, -F, -bs, -bp, -q; "
                       "docs/sendmail.md)")
        ->allow_extras();

    tern::cli::SuppressCommand suppress_cmd;
    tern::cli::add_suppress_command(app, suppress_cmd);
    config_option.add_to(app.get_subcommand("suppress"), "Configuration file, to find the list");
    for (auto* sub : app.get_subcommand("suppress")->get_subcommands({}))
        config_option.add_to(sub, "Configuration file, to find the list");

    tern::cli::MailauthTools mailauth_tools;
    tern::cli::add_mailauth_commands(app, mailauth_tools);
    tern::cli::FeedbackCommand feedback_cmd;
    tern::cli::add_feedback_command(app, feedback_cmd);
    config_option.add_to(app.get_subcommand("feedback"),
                         "Configuration file, for [feedback] and the bounce rules");
    for (auto* sub : app.get_subcommand("feedback")->get_subcommands({}))
        config_option.add_to(sub, "Configuration file, for [feedback] and the bounce rules");
    tern::cli::SrsCommand srs_cmd;
    tern::cli::add_srs_command(app, srs_cmd);
    config_option.add_to(app.get_subcommand("srs"), "Configuration file, for the [srs] secrets");
    for (auto* sub : app.get_subcommand("srs")->get_subcommands({}))
        config_option.add_to(sub, "Configuration file, for the [srs] secrets");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help (and its kin) end parsing with status 0; every real parse error is a usage error.
        if (e.get_exit_code() == 0) return app.exit(e);
        return usage_error(app, e.what());
    }
    std::optional<std::string> given = config_option.path();
    if (!given) return usage_error(app, "-c/--config names two different files");
    std::string config_path = *given;

    if (app.got_subcommand("check-config")) {
        if (!check_path.empty() && !config_path.empty() && check_path != config_path) {
            return usage_error(app, "check-config: the FILE argument and -c name different files");
        }
        if (check_path.empty()) check_path = config_path;
        if (check_path.empty()) return usage_error(app, "check-config: give a configuration file");
        auto config = tern::config::load_file(check_path);
        if (!config) {
            std::cerr << config.error().message << "\n";
            return 1;
        }
        auto problems =
            config_only ? std::vector<std::string>() : tern::cli::check_referenced_files(*config);
        for (const auto& p : problems)
            std::cerr << check_path << ": " << p << "\n";
        if (!problems.empty()) return 1;
        std::cout << check_path << ": ok\n";
        return 0;
    }
    if (app.got_subcommand("config-reference")) {
        std::cout << tern::config::reference_markdown();
        return 0;
    }
    auto config = load(config_path);
    if (!config) {
        std::cerr << "tern: " << config.error().message << "\n";
        return 1;
    }
    if (mailauth_tools.run) return mailauth_tools.run(*config);
    if (!srs_cmd.action.empty()) return tern::cli::run_srs_command(srs_cmd, *config);
    if (!feedback_cmd.action.empty()) return tern::cli::run_feedback_command(feedback_cmd, *config);
    if (app.got_subcommand("serve")) return tern::cli::serve(*config, config_path);
    if (app.got_subcommand("queue")) {
        if ((queue_cmd.action == "retry" || queue_cmd.action == "release") &&
            queue_cmd.id.empty() && !queue_cmd.all) {
            std::cerr << "tern queue " << queue_cmd.action << ": give a queue id or --all\n";
            return kUsageError;
        }
        queue_cmd.socket_path = config->data_dir + "/control.sock";
        queue_cmd.spool_dir = config->data_dir + "/spool";
        return tern::cli::run_queue_command(queue_cmd);
    }
    if (app.got_subcommand("reload"))
        return tern::cli::run_reload_command(*config, config_path, reload_json);
    if (app.got_subcommand("apikey")) {
        apikey_cmd.file = config->api_keys_file;
        apikey_cmd.user = config->user;
        return tern::cli::run_apikey_command(apikey_cmd);
    }
    if (app.got_subcommand("suppress")) {
        suppress_cmd.database = config->suppression_database;
        suppress_cmd.user = config->user;
        return tern::cli::run_suppress_command(suppress_cmd);
    }
    if (app.got_subcommand("user")) {
        user_cmd.database = config->auth_database;
        user_cmd.hashing = {
            {config->argon2_memory_kib, config->argon2_iterations, config->argon2_parallelism},
            config->scram_iterations};
        return tern::cli::run_user_command(user_cmd);
    }
    return 0;
}
