// run_apikey_command: one change to the key file under an exclusive lock (two `tern apikey add`
// at once both land), written as the daemon's user ([server] user; else the owner of the file's
// directory, as the data directory is the daemon's) so that the daemon can read it.
#include "cli/apikey_command.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/api_keys.h"
#include "base/durable_dirs.h"
#include "base/run_as.h"
#include "base/text.h"
#include "base/unique_fd.h"
#include "base/unix_time.h"
#include "cli/utc_time.h"

namespace tern::cli {
int run_apikey_command(const ApiKeyCommand& command) {
    const std::string& file = command.file;
    if (command.action == "list") {
        auto keys = auth::read_api_keys(file);
        if (!keys) {
            std::cerr << "tern apikey: " << keys.error().message << "\n";
            return 2;
        }
        if (command.json) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& k : *keys)
                list.push_back(
                    {{"name", k.name}, {"domains", k.domains}, {"created", utc_time(k.created)}});
            std::cout << list.dump(2) << "\n";
            return 0;
        }
        for (const auto& k : *keys) {
            std::string domains;
            for (const auto& d : k.domains)
                domains += (domains.empty() ? "" : ",") + d;
            std::cout << k.name << "  " << (domains.empty() ? "*" : domains) << "  "
                      << utc_time(k.created) << "\n";
        }
        return 0;
    }
    if (!auth::valid_key_name(command.name)) {
        std::cerr << "tern apikey: '" << command.name
                  << "' is no key name (1 to 64 letters, digits, '.', '_', '-')\n";
        return 1;
    }
    std::vector<std::string> domains;
    if (command.action == "add") {
        if (command.domains.empty()) {
            std::cerr << "tern apikey add: give the sender domains the key may use (--domains "
                         "example.org,*.example.org, or --domains '*' for any)\n";
            return 1;
        }
        for (const auto& d : command.domains) {
            if (d == "*" && command.domains.size() == 1) break;
            if (!auth::valid_key_domain(d)) {
                std::cerr << "tern apikey add: '" << d << "' is no domain\n";
                return 1;
            }
            domains.push_back(ascii_lower(d));
        }
    }
    std::string dir = parent_directory(file);
    std::optional<std::pair<uid_t, gid_t>> give;
    if (::geteuid() == 0) {
        if (!command.user.empty()) {
            auto user = lookup_user(command.user);
            if (!user) {
                std::cerr << "tern apikey: " << user.error().message << "\n";
                return 2;
            }
            give = std::pair{user->uid, user->gid};
        } else if (struct stat st{}; ::stat(dir.c_str(), &st) == 0) {
            give = std::pair{st.st_uid, st.st_gid};
        }
    }
    if (auto made = make_durable_dirs(dir, 0700); !made) {
        std::cerr << "tern apikey: " << made.error().message << "\n";
        return 2;
    }
    std::string lock_path = file + ".lock";
    UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
        std::cerr << "tern apikey: " << Error::from_errno(errno, "lock " + lock_path).message
                  << "\n";
        return 2;
    }
    // The daemon's user may run `tern apikey` too: the lock file is theirs as well.
    if (give && ::fchown(lock.get(), give->first, give->second) != 0) {
        std::cerr << "tern apikey: " << Error::from_errno(errno, "chown " + lock_path).message
                  << "\n";
        return 2;
    }
    auto keys = auth::read_api_keys(file);
    if (!keys) {
        std::cerr << "tern apikey: " << keys.error().message << "\n";
        return 2;
    }
    auto found = std::find_if(keys->begin(), keys->end(),
                              [&](const auth::ApiKey& k) { return k.name == command.name; });
    std::string made;
    if (command.action == "add") {
        if (found != keys->end()) {
            std::cerr << "tern apikey add: a key named '" << command.name << "' exists\n";
            return 1;
        }
        auto key = auth::make_api_key();
        if (!key) {
            std::cerr << "tern apikey: " << key.error().message << "\n";
            return 2;
        }
        made = *key;
        keys->push_back({command.name, auth::api_key_digest(made), domains, unix_now()});
    } else {
        if (found == keys->end()) {
            std::cerr << "tern apikey del: no key named '" << command.name << "'\n";
            return 1;
        }
        keys->erase(found);
    }
    if (auto r = auth::write_api_keys(file, *keys, give); !r) {
        std::cerr << "tern apikey: " << r.error().message << "\n";
        return 2;
    }
    if (command.action == "add") {
        std::cout << made << "\n";
        std::cerr << "tern apikey: key '" << command.name << "' added; it is shown this once ("
                  << file << " keeps only its digest)\n";
    } else {
        std::cerr << "tern apikey: key '" << command.name << "' deleted\n";
    }
    return 0;
}

}  // namespace tern::cli
