// run_suppress_command: straight to the SQLite file (WAL: the daemon keeps reading while this
// writes). Run as root, the files are then given to the daemon's user, so that it can write
// them too.
#include "cli/suppress_command.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/suppressions_api.h"
#include "base/run_as.h"
#include "base/unix_time.h"
#include "cli/utc_time.h"
#include "smtp/address.h"
#include "suppress/suppression_db.h"

namespace tern::cli {
namespace {

constexpr std::size_t kPage = 1000;

// The database's files to the daemon's user, when run as root and that user is known.
void give_to_daemon_user(const SuppressCommand& c) {
    if (::geteuid() != 0 || c.user.empty()) return;
    auto user = lookup_user(c.user);
    if (!user) return;
    for (const auto& path : {c.database, c.database + "-wal", c.database + "-shm"})
        (void)give_path(path, *user);
}

int list(suppress::SuppressionDb& db, const SuppressCommand& c) {
    std::optional<std::string> tenant;
    if (!c.tenant.empty()) tenant = c.tenant;
    std::string after_tenant, after_address;
    nlohmann::json all = nlohmann::json::array();
    while (true) {
        auto page = db.list(tenant, after_tenant, after_address, kPage);
        if (!page) {
            std::cerr << "tern suppress: " << page.error().message << "\n";
            return 2;
        }
        for (const auto& s : *page) {
            if (c.json) {
                all.push_back(api::suppression_json(s));
            } else {
                std::cout << s.address << "  " << suppress::reason_name(s.reason) << "  "
                          << utc_time(s.created) << "  " << s.source
                          << (s.tenant.empty() ? "" : "  tenant=" + s.tenant)
                          << (s.detail.empty() ? "" : "  " + s.detail) << "\n";
            }
        }
        if (page->size() < kPage) break;
        after_tenant = page->back().tenant;
        after_address = page->back().address;
    }
    if (c.json) std::cout << all.dump(2) << "\n";
    return 0;
}

}  // namespace

void add_suppress_command(CLI::App& app, SuppressCommand& command) {
    auto* suppress = app.add_subcommand(
        "suppress", "Manage the suppression list: addresses the sending API refuses");
    suppress->require_subcommand(1);
    suppress->fallthrough();
    for (auto [name, help] :
         {std::pair{"list", "List the entries (every tenant's, or --tenant's)"},
          std::pair{"add", "Put addresses on the list (again: the entry is replaced)"},
          std::pair{"del", "Take addresses off the list"}}) {
        auto* sub = suppress->add_subcommand(name, help);
        sub->fallthrough();
        std::string action = name;
        sub->add_option("--tenant", command.tenant, "A tenant's list instead of the global one");
        if (action == "list") {
            sub->add_flag("--json", command.json, "Print the list as JSON");
        } else {
            sub->add_option("address", command.addresses, "NAME@DOMAIN ...");
            sub->add_option("--file", command.file,
                            "Also the addresses of FILE, one a line ('-': standard input)");
        }
        if (action == "add") {
            sub->add_option("--reason", command.reason,
                            "bounce, complaint, unsubscribe or manual (the default)");
            sub->add_option("--detail", command.detail, "A note kept with the entries");
        }
        sub->callback([&command, action] { command.action = action; });
    }
}

int run_suppress_command(const SuppressCommand& c) {
    if (!c.tenant.empty() && !suppress::valid_tenant(c.tenant)) {
        std::cerr << "tern suppress: '" << c.tenant
                  << "' is no tenant name (1 to 64 letters, digits, '.', '_', '-')\n";
        return 1;
    }
    auto reason = suppress::parse_reason(c.reason);
    if (!reason) {
        std::cerr << "tern suppress: --reason must be bounce, complaint, unsubscribe or manual\n";
        return 1;
    }
    std::vector<std::string> given = c.addresses;
    if (!c.file.empty()) {
        std::ifstream file_in;
        std::istream* in = &std::cin;
        if (c.file != "-") {
            file_in.open(c.file);
            if (!file_in) {
                std::cerr << "tern suppress: " << c.file << ": cannot be read\n";
                return 2;
            }
            in = &file_in;
        }
        std::string line;
        while (std::getline(*in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
                line.pop_back();
            std::size_t start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') continue;
            given.push_back(line.substr(start));
        }
    }
    std::vector<std::string> addresses;
    for (const auto& a : given) {
        auto mailbox = smtp::parse_mailbox(a, true);
        if (!mailbox) {
            std::cerr << "tern suppress: '" << a << "' is not a valid address\n";
            return 1;
        }
        addresses.push_back(suppress::normalize_address(mailbox->str()));
    }
    if (c.action != "list" && addresses.empty()) {
        std::cerr << "tern suppress " << c.action << ": give at least one address\n";
        return 1;
    }
    auto db = suppress::SuppressionDb::open(c.database);
    if (!db) {
        std::cerr << "tern suppress: " << db.error().message << "\n";
        return 2;
    }
    int code = 0;
    if (c.action == "list") {
        code = list(**db, c);
    } else if (c.action == "add") {
        std::vector<suppress::Suppression> entries;
        std::int64_t now = unix_now();
        for (const auto& a : addresses)
            entries.push_back({c.tenant, a, *reason, c.detail, "cli", now});
        auto added = (*db)->add(entries, true);
        if (!added) {
            std::cerr << "tern suppress: " << added.error().message << "\n";
            code = 2;
        } else {
            std::cerr << "tern suppress: " << entries.size() << " address"
                      << (entries.size() == 1 ? "" : "es") << " on the list (" << *added
                      << " new)\n";
        }
    } else {
        for (const auto& a : addresses) {
            auto removed = (*db)->remove(c.tenant, a);
            if (!removed) {
                std::cerr << "tern suppress: " << removed.error().message << "\n";
                code = 2;
                break;
            }
            if (!*removed) {
                std::cerr << "tern suppress del: " << a << " is not on the list\n";
                code = std::max(code, 1);
            } else {
                std::cerr << "tern suppress: " << a << " taken off the list\n";
            }
        }
    }
    db->reset();
    give_to_daemon_user(c);  // `list` too: its connection may have made the WAL files
    return code;
}

}  // namespace tern::cli
