// IpAddress: parsing with inet_pton, the IPv4-mapped rule of RFC 7208 section 5, the %{i} and
// PTR name forms of sections 5.5 and 7.3, and prefix comparison for the CIDR lengths.
#include "mailauth/spf_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace tern::mailauth {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::from_bytes(std::string_view octets) {
    IpAddress a;
    if (octets.size() == 4) {
        std::memcpy(a.bytes_.data(), octets.data(), 4);
        return a;
    }
    if (octets.size() != 16) return std::nullopt;
    if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(),
                   reinterpret_cast<const std::uint8_t*>(octets.data()))) {
        std::memcpy(a.bytes_.data(), octets.data() + 12, 4);
        return a;
    }
    a.v6_ = true;
    std::memcpy(a.bytes_.data(), octets.data(), 16);
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string s(text);
    unsigned char buf[16];
    if (inet_pton(AF_INET, s.c_str(), buf) == 1)
        return from_bytes({reinterpret_cast<const char*>(buf), 4});
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1)
        return from_bytes({reinterpret_cast<const char*>(buf), 16});
    return std::nullopt;
}

std::optional<IpAddress> IpAddress::parse_ipv6(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) != 1) return std::nullopt;
    a.v6_ = true;
    return a;
}

std::string IpAddress::str() const {
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf, sizeof buf)) return {};
    return buf;
}

std::string IpAddress::dotted() const {
    if (!v6_) return str();
    std::string out;
    for (std::uint8_t b : bytes_) {
        if (!out.empty()) out += '.';
        out += kHex[b >> 4];
        out += '.';
        out += kHex[b & 0x0f];
    }
    return out;
}

std::string IpAddress::reverse_name() const {
    std::string out;
    if (!v6_) {
        for (int i = 3; i >= 0; --i)
            out += std::to_string(bytes_[static_cast<std::size_t>(i)]) + '.';
        return out + "in-addr.arpa";
    }
    for (int i = 15; i >= 0; --i) {
        std::uint8_t b = bytes_[static_cast<std::size_t>(i)];
        out += kHex[b & 0x0f];
        out += '.';
        out += kHex[b >> 4];
        out += '.';
    }
    return out + "ip6.arpa";
}

bool IpAddress::same_network(const IpAddress& other, unsigned prefix) const {
    if (v6_ != other.v6_) return false;
    unsigned bits = v6_ ? 128 : 32;
    prefix = std::min(prefix, bits);
    std::size_t whole = prefix / 8;
    if (std::memcmp(bytes_.data(), other.bytes_.data(), whole) != 0) return false;
    unsigned rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (bytes_[whole] & mask) == (other.bytes_[whole] & mask);
}

}  // namespace tern::mailauth
