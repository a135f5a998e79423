// NetworkList: CIDR parsing and prefix matching over the raw address bytes, host bits of an
// entry ignored ("10.1.2.3/8" is 10.0.0.0/8), so a config typo cannot widen a rule by accident.
#include "net/network_list.h"

#include <charconv>

namespace tern::net {
namespace asio = boost::asio;

namespace {

struct Parsed {
    asio::ip::address address;
    unsigned prefix = 0;
};

std::expected<Parsed, std::string> parse_one(std::string_view entry) {
    auto slash = entry.find('/');
    std::string host(entry.substr(0, slash));
    boost::system::error_code ec;
    Parsed p;
    p.address = asio::ip::make_address(host, ec);
    if (ec)
        return std::unexpected("\"" + std::string(entry) + "\" is not an IP address or network");
    unsigned max = p.address.is_v4() ? 32 : 128;
    p.prefix = max;
    if (slash != std::string_view::npos) {
        auto bits = entry.substr(slash + 1);
        auto [ptr, err] = std::from_chars(bits.data(), bits.data() + bits.size(), p.prefix);
        if (err != std::errc() || ptr != bits.data() + bits.size() || bits.empty() ||
            p.prefix > max)
            return std::unexpected("\"" + std::string(entry) + "\" has a bad prefix length (0 to " +
                                   std::to_string(max) + ")");
    }
    return p;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, unsigned bits) {
    unsigned whole = bits / 8;
    for (unsigned i = 0; i < whole; ++i)
        if (a[i] != b[i]) return false;
    unsigned rest = bits % 8;
    if (rest == 0) return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::string NetworkList::check(std::string_view entry) {
    auto p = parse_one(entry);
    return p ? std::string() : p.error();
}

Result<NetworkList> NetworkList::parse(const std::vector<std::string>& entries) {
    NetworkList list;
    for (const auto& e : entries) {
        auto p = parse_one(e);
        if (!p) return fail(ErrorCode::kInvalid, p.error());
        Network n;
        n.prefix = p->prefix;
        // A mapped entry (::ffff:a.b.c.d/n) is stored as IPv4, as contains() maps addresses.
        if (p->address.is_v6() && p->address.to_v6().is_v4_mapped() && p->prefix >= 96) {
            p->address = asio::ip::make_address_v4(asio::ip::v4_mapped, p->address.to_v6());
            n.prefix = p->prefix - 96;
        }
        if (p->address.is_v4()) {
            auto b = p->address.to_v4().to_bytes();
            std::copy(b.begin(), b.end(), n.bytes.begin());
        } else {
            n.v6 = true;
            auto b = p->address.to_v6().to_bytes();
            std::copy(b.begin(), b.end(), n.bytes.begin());
        }
        list.networks_.push_back(n);
    }
    return list;
}

bool NetworkList::contains(const asio::ip::address& raw) const {
    asio::ip::address address = raw;
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    std::array<unsigned char, 16> bytes{};
    bool v6 = address.is_v6();
    if (v6) {
        auto b = address.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
    } else {
        auto b = address.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
    }
    for (const auto& n : networks_)
        if (n.v6 == v6 && prefix_equal(n.bytes.data(), bytes.data(), n.prefix)) return true;
    return false;
}

bool NetworkList::contains(std::string_view text) const {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(std::string(text), ec);
    return !ec && contains(address);
}

}  // namespace tern::net
