// The configuration schema assembled from its parts, and the string checks the parts share.
#include "config/schema.h"

#include "base/text.h"
#include "net/lmtp_target.h"
#include "net/network_list.h"
#include "net/next_hop.h"
#include "tls/client_context.h"

namespace tern::config {

std::string check_network(std::string_view s) {
    return net::NetworkList::check(s);
}

std::string check_domain_or_empty(std::string_view s) {
    return s.empty() || is_dns_name(s) ? std::string()
                                       : "\"" + std::string(s) + "\" is not a domain name";
}

std::string check_listener(std::string_view s) {
    return s == "mx" || s == "submission"
               ? std::string()
               : "\"" + std::string(s) + "\" is not \"mx\" or \"submission\"";
}

Key listeners_key(std::string_view section, std::string_view default_toml, std::string_view doc,
                  std::vector<std::string> Config::*field) {
    return {section,
            "listeners",
            Kind::kStringList,
            default_toml,
            doc,
            [field](Config& c, const Value& v) { c.*field = v.list; },
            0,
            UINT64_MAX,
            {},
            check_listener};
}

std::string check_next_hop(std::string_view s) {
    if (net::NextHop::parse(s, 25)) return "";
    return "\"" + std::string(s) +
           "\" is not a next hop such as \"[192.0.2.1]:25\", \"[mail.example.net]:587\" or "
           "\"example.net\"";
}

std::string check_tls_policy(std::string_view s) {
    auto eq = s.find('=');
    if (eq == std::string_view::npos || trim_blanks(s.substr(0, eq)).empty())
        return "\"" + std::string(s) + "\" is not \"domain = level\"";
    if (!tls::parse_level(trim_blanks(s.substr(eq + 1))))
        return "\"" + std::string(s) + "\": the level must be none, may, encrypt or verify";
    return "";
}

std::string check_route(std::string_view s) {
    auto eq = s.find('=');
    if (eq == std::string_view::npos)
        return "\"" + std::string(s) + "\" is not a route of the form \"domain = next-hop\"";
    auto domain = trim_blanks(s.substr(0, eq));
    if (domain.empty() || domain.find_first_of(" \t@[]:") != std::string_view::npos)
        return "\"" + std::string(s) + "\" has no valid domain before \"=\"";
    return check_next_hop(trim_blanks(s.substr(eq + 1)));
}

std::string check_lmtp_route(std::string_view s) {
    auto eq = s.find('=');
    if (eq == std::string_view::npos)
        return "\"" + std::string(s) + "\" is not of the form \"domain = lmtp-server\"";
    auto domain = trim_blanks(s.substr(0, eq));
    if (domain.empty() || domain.find_first_of(" \t@[]:") != std::string_view::npos)
        return "\"" + std::string(s) + "\" has no valid domain (or \"*\") before \"=\"";
    auto target = trim_blanks(s.substr(eq + 1));
    if (!net::LmtpTarget::parse(target))
        return "\"" + std::string(target) +
               "\" is not an LMTP server such as \"unix:/run/dovecot/lmtp\", \"[127.0.0.1]:24\" or "
               "\"localhost:24\"";
    return "";
}

const std::vector<Key>& schema() {
    static const std::vector<Key> keys = [] {
        std::vector<Key> all;
        for (auto part : {server_keys, delivery_keys, security_keys, mailauth_keys, policy_keys,
                          content_keys, filter_keys, http_keys}) {
            auto keys = part();
            std::move(keys.begin(), keys.end(), std::back_inserter(all));
        }
        return all;
    }();
    return keys;
}

}  // namespace tern::config
