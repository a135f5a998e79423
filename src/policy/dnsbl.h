// DNSBL/DNSWL (RFC 5782): the list sites an operator configures in postscreen's syntax, the name
// to ask for a client address, and the score of the answers. Sans-I/O: the stage asks the
// resolver and feeds the answers here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::policy {

// One octet of an answer filter: a set of values (a number, [lo..hi], [a;b;c] or a mix).
struct OctetSet {
    std::vector<std::pair<std::uint8_t, std::uint8_t>> ranges;  // inclusive
    bool contains(std::uint8_t v) const;
};

// "domain[=filter][*weight]", as Postfix's postscreen_dnsbl_sites: "zen.spamhaus.org*3",
// "bl.example.net=127.0.0.[2..11]", "list.dnswl.org=127.0.[0..255].[1..3]*-2". A negative
// weight makes it an allow list.
struct DnsblSite {
    std::string domain;
    std::optional<std::vector<OctetSet>> filter;  // four octets; none = any 127.0.0.0/8 answer
    int weight = 1;
    std::string text;  // as configured, for logs
};

// The site, or why it is not one.
std::optional<DnsblSite> parse_dnsbl_site(std::string_view text, std::string* why = nullptr);

// The name to look up for `client_ip` under `domain`: reversed octets (IPv4) or nibbles (IPv6),
// RFC 5782 2.1 and 2.4; nullopt when `client_ip` is not an address.
std::optional<std::string> dnsbl_query_name(std::string_view client_ip, std::string_view domain);

// What one list said about the client.
struct ListAnswer {
    bool listed = false;  // an A record the filter accepts
    bool error = false;   // the list answered 127.255.255.x: it refused the query (Spamhaus'
                          // codes for open resolvers and over-quota); never counted
    std::string address;  // the first matching A record
};

// Judges the A records of one site's answer (dotted quads).
ListAnswer judge_answer(const DnsblSite& site, const std::vector<std::string>& addresses);

}  // namespace tern::policy
