// SenderMap: the sender-ownership rule of the submission listeners. The map file is the
// operator's; its lines are checked for shape and any error stops start-up.
#include "auth/sender_map.h"

#include <fstream>
#include <sstream>

#include "base/text.h"

namespace tern::auth {
namespace {

// "alice+tag@example.org" -> "alice@example.org" with delimiter "+".
std::string without_tag(std::string_view address, std::string_view delimiter) {
    auto at = address.rfind('@');
    if (delimiter.empty() || at == std::string_view::npos) return ascii_lower(address);
    auto local = address.substr(0, at);
    auto d = local.find(delimiter);
    if (d == std::string_view::npos || d == 0) return ascii_lower(address);
    return ascii_lower(std::string(local.substr(0, d)) + std::string(address.substr(at)));
}

}  // namespace

Result<SenderMap> SenderMap::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::unexpected(Error::from_errno(errno, path));
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

Result<SenderMap> SenderMap::parse(std::string_view text, const std::string& name) {
    SenderMap map;
    int number = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++number;
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = trim_blanks(line);
        if (line.empty()) continue;
        auto where = name + ":" + std::to_string(number) + ": ";
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return fail(ErrorCode::kInvalid, where + "expected \"sender: account, account\"");
        std::string sender = ascii_lower(trim_blanks(line.substr(0, colon)));
        auto at = sender.find('@');
        if (sender.empty() || at == std::string::npos || at + 1 == sender.size() ||
            sender.find_first_of(" \t,") != std::string::npos)
            return fail(ErrorCode::kInvalid,
                        where + "\"" + sender + "\" is not an address or @domain");
        std::string_view accounts = line.substr(colon + 1);
        bool any = false;
        while (!accounts.empty()) {
            auto comma = accounts.find(',');
            std::string account = ascii_lower(trim_blanks(accounts.substr(0, comma)));
            accounts =
                comma == std::string_view::npos ? std::string_view{} : accounts.substr(comma + 1);
            if (account.empty()) continue;
            if (account.find('@') == std::string::npos || account.find(' ') != std::string::npos)
                return fail(ErrorCode::kInvalid,
                            where + "\"" + account + "\" is not an account address");
            map.grants_[sender].insert(account);
            any = true;
        }
        if (!any) return fail(ErrorCode::kInvalid, where + "no account after \":\"");
    }
    return map;
}

bool SenderMap::owns(std::string_view account, std::string_view sender,
                     std::string_view delimiter) const {
    if (sender.empty() || account.empty()) return false;
    std::string who = ascii_lower(account);
    std::string plain = without_tag(sender, delimiter);
    if (plain == who) return true;
    auto granted = [&](const std::string& key) {
        auto it = grants_.find(key);
        return it != grants_.end() && it->second.count(who) > 0;
    };
    auto at = plain.rfind('@');
    return granted(ascii_lower(sender)) || granted(plain) ||
           (at != std::string::npos && granted(plain.substr(at)));
}

}  // namespace tern::auth
