// MX resolution for delivery (RFC 5321 section 5.1, RFC 7505 null MX): the ordered list of
// hosts and addresses to try for a domain, or the permanent or temporary reason there is none.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <random>
#include <string>
#include <vector>

#include "dns/records.h"
#include "dns/resolver.h"

namespace tern::dns {

struct MxHost {
    std::string name;  // the exchange's host name (or an address literal)
    std::uint16_t preference = 0;
    std::vector<std::string> addresses;  // IPv6 first, then IPv4
    std::string canonical;               // the name after CNAMEs; empty when there was none
    bool secure = false;                 // MX and address records were DNSSEC-validated
};

struct MxError {
    bool permanent = false;
    std::string status;  // enhanced status: 5.1.2, 5.1.10, 5.4.4, 4.4.3
    std::string text;
};

struct MxResult {
    std::vector<MxHost> hosts;  // in the order to try
    bool implicit = false;      // no MX records: the domain itself (RFC 5321 5.1)
    bool mx_secure = false;     // the MX RRset (or its absence) was validated
};

struct TlsaResult {
    std::vector<TlsaRecord> records;
    bool secure = false;  // the answer (records or their absence) was DNSSEC-validated
};

// Orders MX records by preference and shuffles those of equal preference (RFC 5321 5.1).
// A lone null MX ("." with any preference) yields an empty list; other null entries are dropped.
std::vector<MxRecord> order_mx(std::vector<MxRecord> records, std::mt19937& rng);

class MxResolver {
  public:
    explicit MxResolver(Resolver& resolver) : resolver_(resolver) {}

    // Resolves `domain` (an ASCII or A-label name) to the hosts to try.
    boost::asio::awaitable<std::expected<MxResult, MxError>> resolve(std::string domain);

    // Resolves one host name to its addresses (for routes and smarthosts).
    boost::asio::awaitable<std::expected<MxHost, MxError>> resolve_host(std::string host);

    // The TLSA records of an SMTP server (RFC 7672: _<port>._tcp.<host>). A secure empty result
    // means the host has none; an error means the lookup failed (SERVFAIL, bogus): temporary.
    boost::asio::awaitable<std::expected<TlsaResult, MxError>> resolve_tlsa(std::string host,
                                                                            std::uint16_t port);

    // The text of the TXT records at `name` (one string per record); empty when there are none.
    boost::asio::awaitable<std::expected<std::vector<std::string>, MxError>> resolve_txt(
        std::string name);

  private:
    Resolver& resolver_;
};

}  // namespace tern::dns
