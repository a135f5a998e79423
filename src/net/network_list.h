// NetworkList: a set of IP networks in CIDR notation ("127.0.0.0/8", "::1/128", "192.0.2.7"),
// for rules such as "clients that may relay". IPv4-mapped IPv6 addresses match as IPv4.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace tern::net {

class NetworkList {
  public:
    // Parses every entry; the error names the first bad one.
    static Result<NetworkList> parse(const std::vector<std::string>& entries);

    // One entry, for configuration checks: an empty string when it is valid, else why not.
    static std::string check(std::string_view entry);

    bool contains(const boost::asio::ip::address& address) const;
    bool contains(std::string_view address) const;

  private:
    struct Network {
        bool v6 = false;
        std::array<unsigned char, 16> bytes{};  // network address; IPv4 uses the first 4
        unsigned prefix = 0;                    // significant bits
    };
    std::vector<Network> networks_;
};

}  // namespace tern::net
