// changed_settings: which keys differ between two configuration files, for a reload to say what
// it applies and what waits for a restart.
#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "config/config.h"

namespace tern::config {
namespace {

// "section.key" -> the value as TOML writes it, for every key of every table.
std::map<std::string, std::string> flatten(const toml::table& root) {
    std::map<std::string, std::string> out;
    for (const auto& [section, node] : root) {
        const auto* table = node.as_table();
        if (!table) continue;
        for (const auto& [key, value] : *table) {
            std::ostringstream text;
            value.visit([&text](const auto& v) { text << v; });
            out[std::string(section.str()) + "." + std::string(key.str())] = text.str();
        }
    }
    return out;
}

}  // namespace

Result<std::vector<std::string>> changed_settings(std::string_view before, std::string_view after) {
    toml::table old_root;
    toml::table new_root;
    try {
        old_root = toml::parse(before);
        new_root = toml::parse(after);
    } catch (const toml::parse_error& e) {
        return fail(ErrorCode::kInvalid, "not TOML: " + std::string(e.description()));
    }
    auto a = flatten(old_root);
    auto b = flatten(new_root);
    std::vector<std::string> changed;
    for (const auto& [key, value] : a) {
        auto it = b.find(key);
        if (it == b.end() || it->second != value) changed.push_back(key);
    }
    for (const auto& [key, value] : b)
        if (!a.count(key)) changed.push_back(key);
    std::sort(changed.begin(), changed.end());
    return changed;
}

}  // namespace tern::config
