// run_user_command: reads the password (one line of standard input when it is not a terminal,
// else twice at a prompt with echo off), calls the AccountStore and prints the result.
#include "cli/user_command.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <expected>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "auth/identity.h"
#include "cli/utc_time.h"

namespace tern::cli {
namespace {

// Wipes a password when it goes out of scope.
struct Secret {
    std::string text;
    ~Secret() { OPENSSL_cleanse(text.data(), text.size()); }
};

// One line of standard input without its line ending; nullopt at end of input.
std::optional<std::string> read_line() {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// Prompts on standard error and reads a line from the terminal with echo off.
std::optional<std::string> prompt_hidden(const std::string& prompt) {
    // Echo goes off before the prompt appears, and without TCSAFLUSH: input typed (or sent by
    // a script) as soon as the prompt shows must not be thrown away.
    termios saved{};
    bool restore = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::cerr << prompt << std::flush;
    auto line = read_line();
    if (restore) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return line;
}

// The new password, or an error message for the user.
std::expected<std::string, std::string> read_password(const std::string& address) {
    Secret first, second;
    if (!isatty(STDIN_FILENO)) {
        auto line = read_line();
        if (!line) return std::unexpected("no password on standard input");
        first.text = std::move(*line);
    } else {
        auto a = prompt_hidden("New password for " + address + ": ");
        if (!a) return std::unexpected("no password given");
        first.text = std::move(*a);
        auto b = prompt_hidden("Retype the password: ");
        if (!b) return std::unexpected("no password given");
        second.text = std::move(*b);
        if (first.text != second.text) return std::unexpected("the passwords do not match");
    }
    if (auto ok = auth::check_password(first.text); !ok) return std::unexpected(ok.error().message);
    return std::string(first.text);
}

int refuse(const UserCommand& c, const std::string& why) {
    std::cerr << "tern user " << c.action << ": " << why << "\n";
    return 1;
}

int print_list(const UserCommand& c, auth::AccountStore& store) {
    auto accounts = store.list();
    if (!accounts) {
        std::cerr << "tern user list: " << accounts.error().message << "\n";
        return 2;
    }
    if (c.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& a : *accounts)
            list.push_back({{"address", a.address},
                            {"created", a.created},
                            {"password_changed", a.password_changed},
                            {"scram_iterations", a.scram_iterations}});
        std::cout << nlohmann::json{{"accounts", list}}.dump() << "\n";
        return 0;
    }
    if (accounts->empty()) {
        std::cout << "No accounts.\n";
        return 0;
    }
    std::size_t width = 7;
    for (const auto& a : *accounts)
        width = std::max(width, a.address.size());
    std::cout << fmt::format("{:<{}}  {:<20}  {}\n", "ADDRESS", width, "CREATED",
                             "PASSWORD CHANGED");
    for (const auto& a : *accounts)
        std::cout << fmt::format("{:<{}}  {:<20}  {}\n", a.address, width, utc_time(a.created),
                                 utc_time(a.password_changed));
    std::cout << accounts->size() << (accounts->size() == 1 ? " account\n" : " accounts\n");
    return 0;
}

}  // namespace

int run_user_command(const UserCommand& c) {
    std::string name;
    if (c.action != "list") {
        auto parsed = auth::parse_account_name(c.address);
        if (!parsed) return refuse(c, parsed.error().message);
        name = std::move(*parsed);
    }
    if (auto created = auth::AccountStore::create_file(c.database); !created) {
        std::cerr << "tern user " << c.action << ": " << created.error().message << "\n";
        return 2;
    }
    // The same connection settings as the daemon's: WAL (kept in the file), the busy timeout,
    // secure_delete. At its close SQLite checkpoints and removes the WAL only when no other
    // process has the database open, so a running daemon's connections keep theirs.
    auto opened = auth::AccountStore::open(c.database, c.hashing);
    if (!opened) {
        std::cerr << "tern user " << c.action << ": " << opened.error().message << "\n";
        return 2;
    }
    auth::AccountStore& store = **opened;
    if (c.action == "list") return print_list(c, store);

    // Refuse before asking for a password that could not be used.
    auto exists = store.exists(name);
    if (!exists) {
        std::cerr << "tern user " << c.action << ": " << exists.error().message << "\n";
        return 2;
    }
    if (c.action == "add" && *exists) return refuse(c, name + " already exists");
    if (c.action != "add" && !*exists) return refuse(c, "no account " + name);

    Result<void> done;
    std::string what;
    if (c.action == "del") {
        done = store.remove(name);
        what = "account deleted";
    } else {
        auto password = read_password(name);
        if (!password) return refuse(c, password.error());
        Secret secret{std::move(*password)};
        done = c.action == "add" ? store.add(name, secret.text)
                                 : store.set_password(name, secret.text);
        what = c.action == "add" ? "account added" : "password changed";
    }
    if (!done) {
        bool refused = done.error().code == ErrorCode::kExists ||
                       done.error().code == ErrorCode::kNotFound ||
                       done.error().code == ErrorCode::kInvalid;
        std::cerr << "tern user " << c.action << ": " << done.error().message << "\n";
        return refused ? 1 : 2;
    }
    std::cout << name << ": " << what << "\n";
    return 0;
}

}  // namespace tern::cli
