// IpAddress: the SMTP client's address as SPF sees it (RFC 7208 section 5): IPv4 or IPv6, an
// IPv4-mapped IPv6 address taken as the IPv4 address it carries, CIDR matching and PTR names.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::mailauth {

class IpAddress {
  public:
    // "192.0.2.1", "2001:db8::1" or "::ffff:192.0.2.1" (which becomes 192.0.2.1); nullopt for
    // anything else. No brackets, no zone index.
    static std::optional<IpAddress> parse(std::string_view text);

    // An IPv6 address kept as IPv6 even when IPv4-mapped: the network of an ip6 mechanism,
    // which never matches an IPv4 client.
    static std::optional<IpAddress> parse_ipv6(std::string_view text);

    // From raw octets: 4 for IPv4, 16 for IPv6 (an IPv4-mapped one becomes IPv4).
    static std::optional<IpAddress> from_bytes(std::string_view octets);

    bool is_v6() const { return v6_; }

    // The usual text form: dotted quad, or RFC 5952 lower-case compressed IPv6.
    std::string str() const;

    // The %{i} macro form: the dotted quad, or 32 upper-case hex nibbles joined by dots.
    std::string dotted() const;

    // The name of the PTR query: "4.3.2.1.in-addr.arpa" or the 32 nibbles reversed + "ip6.arpa".
    std::string reverse_name() const;

    // True when `other` is of the same family and the first `prefix` bits are equal.
    bool same_network(const IpAddress& other, unsigned prefix) const;

    bool operator==(const IpAddress&) const = default;

  private:
    bool v6_ = false;
    std::array<std::uint8_t, 16> bytes_{};  // IPv4 in the first 4 octets
};

}  // namespace tern::mailauth
