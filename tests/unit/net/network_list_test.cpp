// Unit tests of NetworkList: CIDR entries for IPv4 and IPv6 (prefix boundaries, /0, host bits set
// in an entry, IPv4-mapped IPv6 on either side) and the refusal of bad entries with a reason.
#include "net/network_list.h"

#include <gtest/gtest.h>

namespace tern::net {
namespace {

NetworkList list(const std::vector<std::string>& entries) {
    auto l = NetworkList::parse(entries);
    EXPECT_TRUE(l) << (l ? "" : l.error().message);
    return l ? *l : NetworkList{};
}

// --- IPv4 ---------------------------------------------------------------------------------------

TEST(NetworkList, Ipv4NetworkContainsItsAddressesOnly) {
    auto l = list({"10.0.0.0/8"});
    EXPECT_TRUE(l.contains("10.0.0.0"));
    EXPECT_TRUE(l.contains("10.1.2.3"));
    EXPECT_TRUE(l.contains("10.255.255.255"));
    EXPECT_FALSE(l.contains("11.0.0.0"));
    EXPECT_FALSE(l.contains("9.255.255.255"));
}

TEST(NetworkList, PrefixThatIsNotAWholeOctetIsMatchedBitByBit) {
    auto l = list({"198.51.100.32/27"});
    EXPECT_FALSE(l.contains("198.51.100.31"));
    EXPECT_TRUE(l.contains("198.51.100.32"));
    EXPECT_TRUE(l.contains("198.51.100.63"));
    EXPECT_FALSE(l.contains("198.51.100.64"));
    auto m = list({"172.16.0.0/12"});
    EXPECT_TRUE(m.contains("172.31.255.255"));
    EXPECT_FALSE(m.contains("172.32.0.0"));
    EXPECT_FALSE(m.contains("172.15.255.255"));
}

TEST(NetworkList, AddressWithoutPrefixIsASingleHost) {
    auto l = list({"192.0.2.7"});
    EXPECT_TRUE(l.contains("192.0.2.7"));
    EXPECT_FALSE(l.contains("192.0.2.6"));
    EXPECT_FALSE(l.contains("192.0.2.8"));
}

TEST(NetworkList, Slash32IsASingleHostAndSlash31IsTwo) {
    auto host = list({"192.0.2.7/32"});
    EXPECT_TRUE(host.contains("192.0.2.7"));
    EXPECT_FALSE(host.contains("192.0.2.6"));
    auto pair = list({"192.0.2.6/31"});
    EXPECT_TRUE(pair.contains("192.0.2.6"));
    EXPECT_TRUE(pair.contains("192.0.2.7"));
    EXPECT_FALSE(pair.contains("192.0.2.5"));
    EXPECT_FALSE(pair.contains("192.0.2.8"));
}

TEST(NetworkList, Ipv4SlashZeroContainsEveryIpv4AddressButNoIpv6One) {
    auto l = list({"0.0.0.0/0"});
    EXPECT_TRUE(l.contains("0.0.0.0"));
    EXPECT_TRUE(l.contains("203.0.113.9"));
    EXPECT_TRUE(l.contains("255.255.255.255"));
    EXPECT_FALSE(l.contains("::1"));
    EXPECT_FALSE(l.contains("2001:db8::1"));
}

TEST(NetworkList, HostBitsInTheEntryAreIgnored) {
    auto l = list({"10.1.2.3/8"});
    EXPECT_TRUE(l.contains("10.200.0.1"));
    EXPECT_FALSE(l.contains("11.1.2.3"));
    auto v6 = list({"2001:db8::1/32"});
    EXPECT_TRUE(v6.contains("2001:db8:ffff::2"));
    EXPECT_FALSE(v6.contains("2001:db9::1"));
}

// --- IPv6 ---------------------------------------------------------------------------------------

TEST(NetworkList, Ipv6NetworkContainsItsAddressesOnly) {
    auto l = list({"2001:db8::/32"});
    EXPECT_TRUE(l.contains("2001:db8::"));
    EXPECT_TRUE(l.contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    EXPECT_FALSE(l.contains("2001:db9::"));
    EXPECT_FALSE(l.contains("2001:db7:ffff::1"));
}

TEST(NetworkList, Ipv6PrefixBoundariesInsideAGroup) {
    auto l = list({"2001:db8:0:8000::/49"});
    EXPECT_TRUE(l.contains("2001:db8:0:8000::1"));
    EXPECT_TRUE(l.contains("2001:db8:0:ffff::1"));
    EXPECT_FALSE(l.contains("2001:db8:0:7fff::1"));
    auto pair = list({"2001:db8::/127"});
    EXPECT_TRUE(pair.contains("2001:db8::"));
    EXPECT_TRUE(pair.contains("2001:db8::1"));
    EXPECT_FALSE(pair.contains("2001:db8::2"));
}

TEST(NetworkList, Slash128IsASingleHost) {
    auto l = list({"::1/128"});
    EXPECT_TRUE(l.contains("::1"));
    EXPECT_FALSE(l.contains("::2"));
    EXPECT_FALSE(l.contains("::"));
    EXPECT_FALSE(l.contains("127.0.0.1"));
}

TEST(NetworkList, Ipv6SlashZeroContainsEveryIpv6AddressButNoIpv4One) {
    auto l = list({"::/0"});
    EXPECT_TRUE(l.contains("::"));
    EXPECT_TRUE(l.contains("2001:db8::1"));
    EXPECT_TRUE(l.contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    EXPECT_FALSE(l.contains("192.0.2.1"));
}

TEST(NetworkList, Ipv6TextFormsAreEquivalent) {
    auto l = list({"2001:DB8:0:0::/64"});
    EXPECT_TRUE(l.contains("2001:0db8:0000:0000:0000:0000:0000:0001"));
    EXPECT_TRUE(l.contains("2001:db8::abcd"));
}

// --- IPv4-mapped IPv6 ---------------------------------------------------------------------------

TEST(NetworkList, MappedClientAddressMatchesAnIpv4Entry) {
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
    auto l = list({"127.0.0.0/8"});
    EXPECT_TRUE(l.contains("::ffff:127.0.0.1"));
    EXPECT_TRUE(l.contains(boost::asio::ip::make_address("::ffff:127.0.0.1")));
    EXPECT_FALSE(l.contains("::ffff:128.0.0.1"));
}

TEST(NetworkList, MappedClientAddressDoesNotMatchAnIpv6Entry) {
    auto l = list({"::/0"});
    EXPECT_FALSE(l.contains("::ffff:192.0.2.1"));
}

TEST(NetworkList, MappedEntryMatchesTheIpv4AddressAndItsMappedForm) {
    auto host = list({"::ffff:192.0.2.1"});
    EXPECT_TRUE(host.contains("192.0.2.1"));
    EXPECT_TRUE(host.contains("::ffff:192.0.2.1"));
    EXPECT_FALSE(host.contains("192.0.2.2"));
    auto net = list({"::ffff:192.0.2.0/120"});
    EXPECT_TRUE(net.contains("192.0.2.200"));
    EXPECT_TRUE(net.contains("::ffff:192.0.2.200"));
    EXPECT_FALSE(net.contains("192.0.3.1"));
}

// --- several entries, the address forms ---------------------------------------------------------

TEST(NetworkList, AnyEntryMatching) {
    auto l = list({"10.0.0.0/8", "::1", "192.168.0.0/16"});
    EXPECT_TRUE(l.contains("10.9.9.9"));
    EXPECT_TRUE(l.contains("::1"));
    EXPECT_TRUE(l.contains("192.168.1.1"));
    EXPECT_FALSE(l.contains("172.16.0.1"));
    EXPECT_FALSE(l.contains("::2"));
}

TEST(NetworkList, EmptyListContainsNothing) {
    auto l = list({});
    EXPECT_FALSE(l.contains("127.0.0.1"));
    EXPECT_FALSE(l.contains("::1"));
}

TEST(NetworkList, ContainsAddressObjectAgreesWithText) {
    auto l = list({"192.0.2.0/24", "2001:db8::/32"});
    for (const char* a : {"192.0.2.1", "192.0.3.1", "2001:db8::5", "2001:db9::5"})
        EXPECT_EQ(l.contains(boost::asio::ip::make_address(a)), l.contains(a)) << a;
}

TEST(NetworkList, GarbageAddressIsNotContained) {
    auto l = list({"0.0.0.0/0", "::/0"});
    for (const char* a :
         {"", "localhost", "10.0.0", "10.0.0.256", " 10.0.0.1", "10.0.0.0/8", "1.2.3.4.5", ":::"})
        EXPECT_FALSE(l.contains(a)) << a;
}

// --- bad entries --------------------------------------------------------------------------------

TEST(NetworkList, BadPrefixLengthsAreRefused) {
    for (const char* e : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
                          "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0/8/8", "10.0.0.0/0x8",
                          "10.0.0.0/99999999999999999999", "::1/1280"}) {
        EXPECT_FALSE(NetworkList::parse({e})) << e;
        EXPECT_NE(NetworkList::check(e).find("prefix"), std::string::npos) << e;
    }
}

TEST(NetworkList, GarbageEntriesAreRefused) {
    for (const char* e :
         {"", "/8", "example.com", "10.0.0", "10.0.0.256", " 10.0.0.1", "10.0.0.1 ", "10.0.0.0 /8",
          "1.2.3.4.5", ":::", "localhost/8", "2001:db8::/32,10.0.0.0/8"}) {
        EXPECT_FALSE(NetworkList::parse({e})) << e;
        EXPECT_FALSE(NetworkList::check(e).empty()) << e;
    }
}

TEST(NetworkList, ValidEntriesCheckClean) {
    for (const char* e :
         {"10.0.0.0/8", "0.0.0.0/0", "::/0", "::1/128", "192.0.2.7", "::ffff:10.0.0.0/104"})
        EXPECT_EQ(NetworkList::check(e), "") << e;
}

TEST(NetworkList, ParseErrorNamesTheFirstBadEntry) {
    auto l = NetworkList::parse({"10.0.0.0/8", "10.0.0.0/40", "nonsense"});
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code, ErrorCode::kInvalid);
    EXPECT_NE(l.error().message.find("10.0.0.0/40"), std::string::npos) << l.error().message;
    EXPECT_EQ(l.error().message.find("nonsense"), std::string::npos) << l.error().message;
}

}  // namespace
}  // namespace tern::net
