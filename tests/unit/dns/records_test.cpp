// Unit tests of the rdata parsers (RFC 1035, 3596, 6698): names, MX, A, AAAA, PTR/CNAME, TXT and
// TLSA, with truncation at every length, compression pointers refused and the length limits.
#include "dns/records.h"

#include <gtest/gtest.h>

namespace tern::dns {
namespace {

std::string octets(std::initializer_list<int> values) {
    std::string out;
    for (int v : values)
        out += static_cast<char>(v);
    return out;
}

// A name in uncompressed wire format: each label with its length, then the root.
std::string wire(std::initializer_list<std::string_view> labels) {
    std::string out;
    for (auto l : labels) {
        out += static_cast<char>(l.size());
        out += l;
    }
    return out + '\0';
}

// A name in wire format made of labels of the given lengths.
std::string wire_of_lengths(std::initializer_list<std::size_t> lengths) {
    std::string out;
    char fill = 'a';
    for (auto n : lengths) {
        out += static_cast<char>(n);
        out += std::string(n, fill++);
    }
    return out + '\0';
}

const std::string kMxName = wire({"mx", "example", "com"});

// --- read_name ----------------------------------------------------------------------------------

TEST(ReadName, ReadsANameAndAdvancesPastIt) {
    std::string data = kMxName + "rest";
    std::string_view rdata = data;
    EXPECT_EQ(read_name(rdata), "mx.example.com");
    EXPECT_EQ(rdata, "rest");
}

TEST(ReadName, LowerCasesTheName) {
    std::string data = wire({"MX", "Example", "COM"});
    std::string_view rdata = data;
    EXPECT_EQ(read_name(rdata), "mx.example.com");
}

TEST(ReadName, RootIsTheEmptyName) {
    std::string data = octets({0, 7});
    std::string_view rdata = data;
    EXPECT_EQ(read_name(rdata), "");
    EXPECT_EQ(rdata, octets({7}));
}

TEST(ReadName, EmptyInputIsRefused) {
    std::string_view rdata;
    EXPECT_FALSE(read_name(rdata));
}

TEST(ReadName, NameTruncatedAtEveryLengthIsRefused) {
    for (std::size_t n = 0; n < kMxName.size(); ++n) {
        std::string_view rdata(kMxName.data(), n);
        EXPECT_FALSE(read_name(rdata)) << "length " << n;
    }
}

TEST(ReadName, CompressionPointerIsRefused) {
    for (const std::string& data : {octets({0xC0, 0x0C}), "\x02mx" + octets({0xC0, 0x0C}),
                                    "\x02mx" + octets({0xC0, 0x00, 0x00})}) {
        std::string_view rdata = data;
        EXPECT_FALSE(read_name(rdata)) << ::testing::PrintToString(data);
    }
}

TEST(ReadName, ExtendedLabelTypesAreRefused) {
    // 0x40 and 0x80 are the two reserved label types (RFC 6891 section 5).
    for (int type : {0x40, 0x41, 0x80, 0xBF}) {
        std::string data = octets({type}) + std::string(70, 'a') + '\0';
        std::string_view rdata = data;
        EXPECT_FALSE(read_name(rdata)) << type;
    }
}

TEST(ReadName, LabelOf63OctetsIsAccepted) {
    std::string data = wire_of_lengths({63, 3});
    std::string_view rdata = data;
    auto name = read_name(rdata);
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, std::string(63, 'a') + ".bbb");
}

TEST(ReadName, LabelOf64OctetsIsRefused) {
    std::string data = wire_of_lengths({64, 3});
    std::string_view rdata = data;
    EXPECT_FALSE(read_name(rdata));
}

TEST(ReadName, NameOf255OctetsIsAccepted) {
    // RFC 1035 section 3.1: "the total length of a domain name (i.e., label octets and label
    // length octets) is restricted to 255 octets or less", the root's zero octet included.
    std::string data = wire_of_lengths({63, 63, 63, 61});
    ASSERT_EQ(data.size(), 255u);
    std::string_view rdata = data;
    auto name = read_name(rdata);
    ASSERT_TRUE(name);
    EXPECT_EQ(name->size(), 253u);
}

TEST(ReadName, NameOf256OctetsIsRefused) {
    std::string data = wire_of_lengths({63, 63, 63, 62});
    ASSERT_EQ(data.size(), 256u);
    std::string_view rdata = data;
    EXPECT_FALSE(read_name(rdata));
}

TEST(ReadName, ManyShortLabelsCountTowardsTheLimit) {
    std::string ok, too_long;
    for (int i = 0; i < 127; ++i)
        ok += "\x01x";
    too_long = ok + "\x01x";
    ok += '\0';
    too_long += '\0';
    ASSERT_EQ(ok.size(), 255u);
    std::string_view a = ok, b = too_long;
    EXPECT_TRUE(read_name(a));
    EXPECT_FALSE(read_name(b));
}

// --- MX -----------------------------------------------------------------------------------------

TEST(ParseMx, ReadsPreferenceAndExchange) {
    auto mx = parse_mx(octets({0, 10}) + kMxName);
    ASSERT_TRUE(mx);
    EXPECT_EQ(mx->preference, 10);
    EXPECT_EQ(mx->exchange, "mx.example.com");
}

TEST(ParseMx, PreferenceIsBigEndianSixteenBits) {
    auto mx = parse_mx(octets({0xAB, 0xCD}) + kMxName);
    ASSERT_TRUE(mx);
    EXPECT_EQ(mx->preference, 0xABCD);
    auto max = parse_mx(octets({0xFF, 0xFF}) + kMxName);
    ASSERT_TRUE(max);
    EXPECT_EQ(max->preference, 65535);
}

TEST(ParseMx, ExchangeIsLowerCased) {
    auto mx = parse_mx(octets({0, 5}) + wire({"MX1", "Example", "NET"}));
    ASSERT_TRUE(mx);
    EXPECT_EQ(mx->exchange, "mx1.example.net");
}

TEST(ParseMx, NullMxHasTheRootAsExchange) {
    // RFC 7505: "0 ." is a null MX.
    auto mx = parse_mx(octets({0, 0, 0}));
    ASSERT_TRUE(mx);
    EXPECT_EQ(mx->preference, 0);
    EXPECT_EQ(mx->exchange, "");
}

TEST(ParseMx, TruncatedAtEveryLengthIsRefused) {
    std::string full = octets({0, 10}) + kMxName;
    ASSERT_TRUE(parse_mx(full));
    for (std::size_t n = 0; n < full.size(); ++n)
        EXPECT_FALSE(parse_mx(full.substr(0, n))) << "length " << n;
}

TEST(ParseMx, TrailingOctetsAreRefused) {
    EXPECT_FALSE(parse_mx(octets({0, 10}) + kMxName + "x"));
    EXPECT_FALSE(parse_mx(octets({0, 0, 0, 0})));
}

TEST(ParseMx, CompressedExchangeIsRefused) {
    EXPECT_FALSE(parse_mx(octets({0, 10, 0xC0, 0x0C})));
    EXPECT_FALSE(parse_mx(octets({0, 10, 2, 'm', 'x', 0xC0, 0x0C})));
}

TEST(ParseMx, OverlongExchangeIsRefused) {
    EXPECT_FALSE(parse_mx(octets({0, 10}) + wire_of_lengths({64})));
    EXPECT_FALSE(parse_mx(octets({0, 10}) + wire_of_lengths({63, 63, 63, 62})));
    EXPECT_TRUE(parse_mx(octets({0, 10}) + wire_of_lengths({63, 63, 63, 61})));
}

// --- A, AAAA ------------------------------------------------------------------------------------

TEST(ParseA, FourOctetsGiveDottedQuad) {
    EXPECT_EQ(parse_a(octets({192, 0, 2, 1})), "192.0.2.1");
    EXPECT_EQ(parse_a(octets({0, 0, 0, 0})), "0.0.0.0");
    EXPECT_EQ(parse_a(octets({255, 255, 255, 255})), "255.255.255.255");
}

TEST(ParseA, EveryOtherLengthIsRefused) {
    std::string data(20, '\x01');
    for (std::size_t n = 0; n <= data.size(); ++n)
        if (n != 4) {
            EXPECT_FALSE(parse_a(data.substr(0, n))) << "length " << n;
        }
}

TEST(ParseAaaa, SixteenOctetsGiveCanonicalText) {
    std::string v6 = octets({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    EXPECT_EQ(parse_aaaa(v6), "2001:db8::1");
    EXPECT_EQ(parse_aaaa(std::string(16, '\0')), "::");
    std::string mapped = octets({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1});
    EXPECT_EQ(parse_aaaa(mapped), "::ffff:192.0.2.1");
}

TEST(ParseAaaa, EveryOtherLengthIsRefused) {
    std::string data(40, '\x01');
    for (std::size_t n = 0; n <= data.size(); ++n)
        if (n != 16) {
            EXPECT_FALSE(parse_aaaa(data.substr(0, n))) << "length " << n;
        }
}

// --- PTR, CNAME ---------------------------------------------------------------------------------

TEST(ParseName, ReadsTheWholeRdataAsOneName) {
    EXPECT_EQ(parse_name(wire({"Host", "Example", "org"})), "host.example.org");
}

TEST(ParseName, RootIsTheEmptyName) {
    EXPECT_EQ(parse_name(octets({0})), "");
}

TEST(ParseName, TruncatedAtEveryLengthIsRefused) {
    for (std::size_t n = 0; n < kMxName.size(); ++n)
        EXPECT_FALSE(parse_name(kMxName.substr(0, n))) << "length " << n;
}

TEST(ParseName, TrailingOctetsAreRefused) {
    EXPECT_FALSE(parse_name(kMxName + '\0'));
}

TEST(ParseName, CompressionPointerIsRefused) {
    EXPECT_FALSE(parse_name(octets({0xC0, 0x0C})));
}

// --- TXT ----------------------------------------------------------------------------------------

TEST(ParseTxt, JoinsTheCharacterStrings) {
    EXPECT_EQ(parse_txt("\x05hello\x06 world"), "hello world");
    EXPECT_EQ(parse_txt("\x06v=spf1"), "v=spf1");
}

TEST(ParseTxt, EmptyStringsAreKeptAsNothing) {
    EXPECT_EQ(parse_txt(octets({0})), "");
    EXPECT_EQ(parse_txt(octets({0, 1, 'a', 0})), "a");
}

TEST(ParseTxt, StringOf255OctetsIsRead) {
    std::string data = octets({255}) + std::string(255, 'x') + octets({1, 'y'});
    EXPECT_EQ(parse_txt(data), std::string(255, 'x') + "y");
}

TEST(ParseTxt, TruncatedInsideAStringIsRefused) {
    std::string full = "\x05hello\x06 world";
    for (std::size_t n = 0; n < full.size(); ++n) {
        auto r = parse_txt(full.substr(0, n));
        bool on_boundary = n == 0 || n == 6;
        EXPECT_EQ(r.has_value(), on_boundary) << "length " << n;
    }
    EXPECT_FALSE(parse_txt(octets({1})));
    EXPECT_FALSE(parse_txt(octets({255}) + std::string(254, 'x')));
}

TEST(ParseTxt, OctetsArePassedThroughUnchanged) {
    std::string data = octets({4, 0, 0xff, '"', '\n'});
    EXPECT_EQ(parse_txt(data), octets({0, 0xff, '"', '\n'}));
}

// --- TLSA ---------------------------------------------------------------------------------------

TEST(ParseTlsa, ReadsTheFieldsAndTheAssociationData) {
    std::string digest(32, '\xAB');
    auto t = parse_tlsa(octets({3, 1, 1}) + digest);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->usage, 3);
    EXPECT_EQ(t->selector, 1);
    EXPECT_EQ(t->matching, 1);
    EXPECT_EQ(t->data, digest);
}

TEST(ParseTlsa, HighOctetValuesAreNotSignExtended) {
    auto t = parse_tlsa(octets({255, 254, 253, 0x80}));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->usage, 255);
    EXPECT_EQ(t->selector, 254);
    EXPECT_EQ(t->matching, 253);
    EXPECT_EQ(t->data, octets({0x80}));
}

TEST(ParseTlsa, FewerThanThreeOctetsAreRefused) {
    for (std::size_t n = 0; n < 3; ++n)
        EXPECT_FALSE(parse_tlsa(octets({3, 1, 1}).substr(0, n))) << "length " << n;
    auto t = parse_tlsa(octets({3, 1, 1}));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->data, "");
}

// --- normalize_name -----------------------------------------------------------------------------

TEST(NormalizeName, DropsTheTrailingDotAndLowerCases) {
    EXPECT_EQ(normalize_name("Example.COM."), "example.com");
    EXPECT_EQ(normalize_name("example.com"), "example.com");
}

TEST(NormalizeName, RootAndEmptyAreEmpty) {
    EXPECT_EQ(normalize_name("."), "");
    EXPECT_EQ(normalize_name(""), "");
}

TEST(NormalizeName, OnlyAsciiLettersChange) {
    EXPECT_EQ(normalize_name("XN--BCHER-KVA.Example"), "xn--bcher-kva.example");
    EXPECT_EQ(normalize_name("\xC3\x84.example"), "\xC3\x84.example");
}

}  // namespace
}  // namespace tern::dns
