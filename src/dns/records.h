// DNS record data (rdata) as libunbound returns it, decoded into typed records. Input comes
// from the network through the resolver and is bounds-checked octet by octet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::dns {

enum class RecordType : std::uint16_t {
    kA = 1,
    kCname = 5,
    kPtr = 12,
    kMx = 15,
    kTxt = 16,
    kAaaa = 28,
    kTlsa = 52
};

struct MxRecord {
    std::uint16_t preference = 0;
    std::string exchange;  // lower-case, without the trailing dot; "" for the root (null MX)
};

struct TlsaRecord {
    std::uint8_t usage = 0;
    std::uint8_t selector = 0;
    std::uint8_t matching = 0;
    std::string data;  // certificate association data, raw octets
};

// A domain name in uncompressed wire format at the start of `rdata`; advances past it.
std::optional<std::string> read_name(std::string_view& rdata);

std::optional<MxRecord> parse_mx(std::string_view rdata);
std::optional<std::string> parse_a(std::string_view rdata);     // "192.0.2.1"
std::optional<std::string> parse_aaaa(std::string_view rdata);  // "2001:db8::1"
std::optional<std::string> parse_name(std::string_view rdata);  // PTR, CNAME
std::optional<std::string> parse_txt(std::string_view rdata);   // the strings joined
std::optional<TlsaRecord> parse_tlsa(std::string_view rdata);

// "example.com." and "Example.COM" both become "example.com".
std::string normalize_name(std::string_view name);

}  // namespace tern::dns
