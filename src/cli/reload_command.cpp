// `tern reload`: see reload_command.h.
#include "cli/reload_command.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "admin/control_server.h"
#include "cli/referenced_files.h"

namespace tern::cli {

int run_reload_command(const config::Config& config, const std::string& config_path, bool json) {
    std::string name = config_path.empty() ? "(embedded defaults)" : config_path;
    auto problems = check_referenced_files(config);
    for (const auto& p : problems)
        std::cerr << name << ": " << p << "\n";
    if (!problems.empty()) {
        std::cerr << "tern reload: refused; the daemon keeps what it runs with\n";
        return 1;
    }
    auto answer =
        admin::control_call(config.data_dir + "/control.sock", nlohmann::json{{"cmd", "reload"}});
    if (!answer) {
        std::cerr << "tern reload: " << answer.error().message << "\n";
        return 2;
    }
    const nlohmann::json& reply = *answer;
    bool ok = reply.value("ok", false);
    if (json) {
        std::cout << reply.dump(2) << "\n";
        return ok ? 0 : 1;
    }
    if (ok) {
        auto directory = reply.value("directory", nlohmann::json::object());
        std::cout << fmt::format(
            "reload: log file opened again, {} certificate(s) loaded, {} local domain(s), {} "
            "user(s) and {} alias(es) in use; new sessions get the new limits, time-outs and "
            "offers\n",
            reply.value("certificates", 0), directory.value("domains", 0),
            directory.value("users", 0), directory.value("aliases", 0));
    } else {
        std::cerr << "tern reload: " << reply.value("error", "failed") << "\n";
    }
    // Listeners opened and closed, also when another part of the reload failed.
    auto listeners = reply.value("listeners", nlohmann::json::object());
    for (const auto& [key, verb] : {std::pair{"opened", "now listening"},
                                    std::pair{"closed", "closed (its open sessions go on)"}}) {
        if (!listeners.contains(key) || !listeners[key].is_array()) continue;
        for (const auto& l : listeners[key])
            if (l.is_string())
                std::cout << "reload: " << l.get<std::string>() << " " << verb << "\n";
    }
    if (ok && reply.contains("pending") && reply["pending"].is_array())
        for (const auto& setting : reply["pending"])
            if (setting.is_string())
                std::cout << "reload: " << setting.get<std::string>()
                          << " changed: it takes effect at the next start\n";
    return ok ? 0 : 1;
}

}  // namespace tern::cli
