// Unit tests of DNSBL sites: postscreen's syntax, the reversed query names of RFC 5782, and
// how answers are judged against a filter.
#include "policy/dnsbl.h"

#include <gtest/gtest.h>

namespace tern::policy {
namespace {

TEST(DnsblSite, PlainDomainWeighsOne) {
    auto s = parse_dnsbl_site("zen.spamhaus.org");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->domain, "zen.spamhaus.org");
    EXPECT_EQ(s->weight, 1);
    EXPECT_FALSE(s->filter);
}

TEST(DnsblSite, WeightAndFilter) {
    auto s = parse_dnsbl_site("List.DNSWL.org=127.0.[0..255].[1..3]*-2");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->domain, "list.dnswl.org");
    EXPECT_EQ(s->weight, -2);
    ASSERT_TRUE(s->filter);
    EXPECT_TRUE((*s->filter)[2].contains(0));
    EXPECT_TRUE((*s->filter)[2].contains(255));
    EXPECT_TRUE((*s->filter)[3].contains(3));
    EXPECT_FALSE((*s->filter)[3].contains(0));
    EXPECT_FALSE((*s->filter)[3].contains(4));
}

TEST(DnsblSite, ListsOfValues) {
    auto s = parse_dnsbl_site("bl.example.net=127.0.0.[2;4;10..11]*3");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->weight, 3);
    const auto& last = (*s->filter)[3];
    EXPECT_TRUE(last.contains(2));
    EXPECT_FALSE(last.contains(3));
    EXPECT_TRUE(last.contains(4));
    EXPECT_TRUE(last.contains(11));
    EXPECT_FALSE(last.contains(12));
}

TEST(DnsblSite, MalformedSitesSayWhy) {
    for (const char* bad :
         {"", "*3", "bl.example.net*0", "bl.example.net*x", "bl..example", "bl.example.net=127.0.0",
          "bl.example.net=127.0.0.256", "bl.example.net=127.0.0.[5..2]",
          "bl.example.net=127.0.0.[2..", "bl.example.net=1.2.3.4.5", "bad domain.example"}) {
        std::string why;
        EXPECT_FALSE(parse_dnsbl_site(bad, &why)) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
}

TEST(DnsblQueryName, ReversedIpv4) {
    EXPECT_EQ(dnsbl_query_name("192.0.2.99", "bl.example.net"), "99.2.0.192.bl.example.net");
    EXPECT_EQ(dnsbl_query_name("::ffff:192.0.2.1", "bl.example.net"), "1.2.0.192.bl.example.net");
}

TEST(DnsblQueryName, NibblesOfIpv6) {
    // RFC 5782 2.4's example.
    EXPECT_EQ(dnsbl_query_name("2001:db8:1:2:3:4:567:89ab", "ugly.example.com"),
              "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
}

TEST(DnsblQueryName, NotAnAddress) {
    EXPECT_FALSE(dnsbl_query_name("unknown", "bl.example.net"));
}

TEST(DnsblAnswer, AnyLoopbackAnswerWithoutFilter) {
    auto site = *parse_dnsbl_site("bl.example.net");
    EXPECT_TRUE(judge_answer(site, {"127.0.0.2"}).listed);
    EXPECT_FALSE(judge_answer(site, {"192.0.2.1"}).listed);  // not in 127/8: not a listing
}

TEST(DnsblAnswer, FilterChoosesTheCodes) {
    auto site = *parse_dnsbl_site("bl.example.net=127.0.0.[2..3]");
    EXPECT_FALSE(judge_answer(site, {"127.0.0.4"}).listed);
    auto a = judge_answer(site, {"127.0.0.4", "127.0.0.3"});
    EXPECT_TRUE(a.listed);
    EXPECT_EQ(a.address, "127.0.0.3");
}

TEST(DnsblAnswer, RefusedQueryNeverCounts) {
    // Spamhaus answers 127.255.255.254 to queries through public resolvers.
    auto site = *parse_dnsbl_site("zen.spamhaus.org");
    auto a = judge_answer(site, {"127.255.255.254"});
    EXPECT_FALSE(a.listed);
    EXPECT_TRUE(a.error);
}

}  // namespace
}  // namespace tern::policy
