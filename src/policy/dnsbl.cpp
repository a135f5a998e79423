// DNSBL/DNSWL sites: parsing postscreen's site syntax, the reversed query name, and matching
// answers against a site's filter.
#include "policy/dnsbl.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "base/text.h"

namespace tern::policy {
namespace {

bool fail(std::string* why, std::string text) {
    if (why) *why = std::move(text);
    return false;
}

std::optional<std::uint8_t> parse_octet(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > 255) return std::nullopt;
    return static_cast<std::uint8_t>(v);
}

// "2", "[2..11]", "[1;3;5..7]".
std::optional<OctetSet> parse_octet_set(std::string_view s) {
    OctetSet set;
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
        s = s.substr(1, s.size() - 2);
        while (true) {
            auto semi = s.find(';');
            std::string_view item = s.substr(0, semi);
            auto dots = item.find("..");
            auto lo = parse_octet(item.substr(0, dots));
            auto hi = dots == std::string_view::npos ? lo : parse_octet(item.substr(dots + 2));
            if (!lo || !hi || *lo > *hi) return std::nullopt;
            set.ranges.emplace_back(*lo, *hi);
            if (semi == std::string_view::npos) break;
            s = s.substr(semi + 1);
        }
        return set;
    }
    auto v = parse_octet(s);
    if (!v) return std::nullopt;
    set.ranges.emplace_back(*v, *v);
    return set;
}

}  // namespace

bool OctetSet::contains(std::uint8_t v) const {
    for (auto [lo, hi] : ranges)
        if (v >= lo && v <= hi) return true;
    return false;
}

std::optional<DnsblSite> parse_dnsbl_site(std::string_view text, std::string* why) {
    DnsblSite site;
    site.text = std::string(text);
    std::string_view rest = trim_blanks(text);
    auto star = rest.rfind('*');
    if (star != std::string_view::npos && rest.find(']', star) == std::string_view::npos) {
        std::string_view w = rest.substr(star + 1);
        int weight = 0;
        auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), weight);
        if (ec != std::errc() || p != w.data() + w.size() || w.empty() || weight == 0 ||
            weight < -1000 || weight > 1000) {
            fail(why, "the weight after '*' is not a whole number from -1000 to 1000 other than 0");
            return std::nullopt;
        }
        site.weight = weight;
        rest = rest.substr(0, star);
    }
    auto eq = rest.find('=');
    site.domain = ascii_lower(rest.substr(0, eq));
    if (!is_dns_name(site.domain)) {
        fail(why, "\"" + site.domain + "\" is not a domain name");
        return std::nullopt;
    }
    if (eq != std::string_view::npos) {
        std::string_view f = rest.substr(eq + 1);
        std::vector<OctetSet> octets;
        while (true) {
            auto dot = f.find('.');
            // A dot inside brackets belongs to a range ("[2..11]").
            auto open = f.find('[');
            if (open != std::string_view::npos && open < dot) {
                auto close = f.find(']', open);
                dot = close == std::string_view::npos ? close : f.find('.', close);
            }
            auto set = parse_octet_set(f.substr(0, dot));
            if (!set) {
                fail(why, "the filter \"" + std::string(rest.substr(eq + 1)) +
                              "\" is not four octets such as 127.0.0.[2..11]");
                return std::nullopt;
            }
            octets.push_back(std::move(*set));
            if (dot == std::string_view::npos) break;
            f = f.substr(dot + 1);
        }
        if (octets.size() != 4) {
            fail(why, "the filter \"" + std::string(rest.substr(eq + 1)) +
                          "\" is not four octets such as 127.0.0.[2..11]");
            return std::nullopt;
        }
        site.filter = std::move(octets);
    }
    return site;
}

std::optional<std::string> dnsbl_query_name(std::string_view client_ip, std::string_view domain) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(client_ip), ec);
    if (ec) return std::nullopt;
    std::string name;
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    if (address.is_v4()) {
        auto b = address.to_v4().to_bytes();
        for (int i = 3; i >= 0; --i)
            name += std::to_string(b[i]) + ".";
    } else {
        static constexpr char kHex[] = "0123456789abcdef";
        auto b = address.to_v6().to_bytes();
        for (int i = 15; i >= 0; --i) {
            name += kHex[b[i] & 0xf];
            name += '.';
            name += kHex[b[i] >> 4];
            name += '.';
        }
    }
    return name + std::string(domain);
}

ListAnswer judge_answer(const DnsblSite& site, const std::vector<std::string>& addresses) {
    ListAnswer out;
    for (const auto& a : addresses) {
        boost::system::error_code ec;
        auto v4 = boost::asio::ip::make_address_v4(a, ec);
        if (ec) continue;
        auto b = v4.to_bytes();
        if (b[0] == 127 && b[1] == 255 && b[2] == 255) {
            out.error = true;
            continue;
        }
        bool match;
        if (site.filter) {
            match = true;
            for (int i = 0; i < 4; ++i)
                match = match && (*site.filter)[i].contains(b[i]);
        } else {
            match = b[0] == 127;  // RFC 5782 2.1: listed entries answer in 127.0.0.0/8
        }
        if (match && !out.listed) {
            out.listed = true;
            out.address = a;
        }
    }
    return out;
}

}  // namespace tern::policy
