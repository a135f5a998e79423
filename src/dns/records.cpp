// Decoding of the rdata of A, AAAA, MX, TXT, TLSA, PTR and CNAME records (RFC 1035, 3596,
// 6698). Names are uncompressed: libunbound hands over rdata in canonical form.
#include "dns/records.h"

#include <arpa/inet.h>

#include "base/text.h"

namespace tern::dns {

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return ascii_lower(name);
}

std::optional<std::string> read_name(std::string_view& rdata) {
    std::string name;
    std::size_t total = 0;
    while (true) {
        if (rdata.empty()) return std::nullopt;
        auto len = static_cast<unsigned char>(rdata[0]);
        rdata.remove_prefix(1);
        if (len == 0) break;
        if (len > 63 || rdata.size() < len)
            return std::nullopt;  // compression pointers are not expected
        total += len + 1;
        if (total + 1 > 255) return std::nullopt;  // RFC 1035 3.1: 255 octets, root octet included
        if (!name.empty()) name += '.';
        name.append(rdata.substr(0, len));
        rdata.remove_prefix(len);
    }
    return normalize_name(name);
}

std::optional<MxRecord> parse_mx(std::string_view rdata) {
    if (rdata.size() < 3) return std::nullopt;
    MxRecord mx;
    mx.preference = static_cast<std::uint16_t>((static_cast<unsigned char>(rdata[0]) << 8) |
                                               static_cast<unsigned char>(rdata[1]));
    rdata.remove_prefix(2);
    auto name = read_name(rdata);
    if (!name || !rdata.empty()) return std::nullopt;
    mx.exchange = std::move(*name);
    return mx;
}

std::optional<std::string> parse_a(std::string_view rdata) {
    if (rdata.size() != 4) return std::nullopt;
    char buf[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, rdata.data(), buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
}

std::optional<std::string> parse_aaaa(std::string_view rdata) {
    if (rdata.size() != 16) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, rdata.data(), buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
}

std::optional<std::string> parse_name(std::string_view rdata) {
    auto name = read_name(rdata);
    if (!name || !rdata.empty()) return std::nullopt;
    return name;
}

std::optional<std::string> parse_txt(std::string_view rdata) {
    std::string out;
    while (!rdata.empty()) {
        auto len = static_cast<unsigned char>(rdata[0]);
        rdata.remove_prefix(1);
        if (rdata.size() < len) return std::nullopt;
        out.append(rdata.substr(0, len));
        rdata.remove_prefix(len);
    }
    return out;
}

std::optional<TlsaRecord> parse_tlsa(std::string_view rdata) {
    if (rdata.size() < 3) return std::nullopt;
    TlsaRecord t;
    t.usage = static_cast<std::uint8_t>(rdata[0]);
    t.selector = static_cast<std::uint8_t>(rdata[1]);
    t.matching = static_cast<std::uint8_t>(rdata[2]);
    t.data = std::string(rdata.substr(3));
    return t;
}

}  // namespace tern::dns
