// check_host() (RFC 7208) against DNS data written by hand: every mechanism and modifier,
// every result, the limits of section 4.6.4, the DNS error rules, the HELO identity, exp=.
#include <gtest/gtest.h>

#include "mailauth/spf.h"
#include "spf_zone.h"

namespace tern::mailauth {
namespace {

using testing::FakeZone;
using testing::mail_from;
using testing::run_check;
using R = AuthResult;

SpfOutcome check(FakeZone& zone, const std::string& ip, const std::string& sender = "a@example.com",
                 SpfOptions options = {}) {
    return run_check(zone, mail_from(ip, sender), options);
}

TEST(SpfCheck, QualifiersGiveTheirResults) {
    FakeZone z;
    z.txt("pass.example", "v=spf1 +all").txt("fail.example", "v=spf1 -all");
    z.txt("soft.example", "v=spf1 ~all").txt("neutral.example", "v=spf1 ?all");
    z.txt("bare.example", "v=spf1 all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@pass.example").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.2.1", "a@fail.example").result, R::kFail);
    EXPECT_EQ(check(z, "192.0.2.1", "a@soft.example").result, R::kSoftFail);
    EXPECT_EQ(check(z, "192.0.2.1", "a@neutral.example").result, R::kNeutral);
    EXPECT_EQ(check(z, "192.0.2.1", "a@bare.example").result, R::kPass);
    auto o = check(z, "192.0.2.1", "a@fail.example");
    EXPECT_EQ(o.mechanism, "-all");
    EXPECT_EQ(o.domain, "fail.example");
    EXPECT_EQ(o.record_domain, "fail.example");
    EXPECT_EQ(o.reason, "mechanism -all matched in the record of fail.example");
    EXPECT_FALSE(o.explanation);
}

TEST(SpfCheck, DefaultIsNeutral) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ip4:192.0.2.1").txt("empty.example", "v=spf1");
    auto o = check(z, "192.0.2.2");
    EXPECT_EQ(o.result, R::kNeutral);
    EXPECT_EQ(o.mechanism, "");
    EXPECT_NE(o.reason.find("no mechanism matched"), std::string::npos);
    EXPECT_EQ(check(z, "192.0.2.2", "a@empty.example").result, R::kNeutral);
}

TEST(SpfCheck, NoneWhenThereIsNoRecord) {
    FakeZone z;
    z.txt("other.example", "some verification token").a("nodata.example", "192.0.2.9");
    z.txt("spf10.example", "v=spf10 -all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@nxdomain.example").result, R::kNone);
    EXPECT_EQ(check(z, "192.0.2.1", "a@nodata.example").result, R::kNone);
    EXPECT_EQ(check(z, "192.0.2.1", "a@other.example").result, R::kNone);
    EXPECT_EQ(check(z, "192.0.2.1", "a@spf10.example").result, R::kNone);
}

TEST(SpfCheck, NoneForMalformedDomainsWithoutAsking) {
    FakeZone z;
    std::string long_label(64, 'a');
    for (std::string sender : {"a@" + long_label + ".example.com", std::string("a@A...example.com"),
                               std::string("a@localhost"), std::string("a@[192.0.2.1]"),
                               std::string("a@"), std::string("a@exa mple.com")}) {
        auto o = check(z, "192.0.2.1", sender);
        EXPECT_EQ(o.result, R::kNone) << sender;
    }
    EXPECT_TRUE(z.asked.empty());
    // A 63-octet label is fine.
    z.txt(std::string(63, 'a') + ".example.com", "v=spf1 -all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@" + std::string(63, 'a') + ".example.com").result, R::kFail);
}

TEST(SpfCheck, RecordSelection) {
    FakeZone z;
    z.txt("two.example", "v=spf1 -all").txt("two.example", "v=spf1 +all");
    z.txt("case.example", "v=spf1 -all").txt("case.example", "V=SPF1 +all");
    z.txt("mixed.example", "v=spf1 -all").txt("mixed.example", "google-site-verification=x");
    z.txt("split.example", std::vector<std::string>{"v=spf1 ip4:192.0.2.1", " -all"});
    z.txt("nospace.example", std::vector<std::string>{"v=spf1", "mx"});
    z.txt("upper.example", "V=SpF1 ~all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@two.example").result, R::kPermError);
    EXPECT_EQ(check(z, "192.0.2.1", "a@case.example").result, R::kPermError);
    EXPECT_EQ(check(z, "192.0.2.2", "a@mixed.example").result, R::kFail);
    EXPECT_EQ(check(z, "192.0.2.1", "a@split.example").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.2.2", "a@split.example").result, R::kFail);
    EXPECT_EQ(check(z, "192.0.2.2", "a@nospace.example").result, R::kNone);
    EXPECT_EQ(check(z, "192.0.2.2", "a@upper.example").result, R::kSoftFail);
}

TEST(SpfCheck, BadTxtDataIsSkipped) {
    FakeZone z;
    z.txt("example.com", "v=spf1 -all");
    SpfCheck c(mail_from("192.0.2.1", "a@example.com"));
    ASSERT_TRUE(c.next_query());
    dns::Answer a = z.answer(*c.next_query());
    a.rdata.push_back("\x10short");  // a string length past the end
    c.feed(a);
    EXPECT_EQ(c.outcome().result, R::kFail);
}

TEST(SpfCheck, SyntaxErrorsArePermErrors) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ip4:192.0.2.1 -all moo");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kPermError);
    EXPECT_NE(o.reason.find("moo"), std::string::npos);
    z.txt("ascii.example", "v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@ascii.example").result, R::kPermError);
}

TEST(SpfCheck, RecordLengthLimit) {
    FakeZone z;
    std::string record = "v=spf1";
    while (record.size() < 600)
        record += " ip4:192.0.2.1";
    z.txt("example.com", record + " -all");
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kPass);
    SpfOptions small;
    small.max_record_length = 500;
    auto o = check(z, "192.0.2.1", "a@example.com", small);
    EXPECT_EQ(o.result, R::kPermError);
    EXPECT_NE(o.reason.find("longer than 500"), std::string::npos);
}

TEST(SpfCheck, TempErrorOnRecordLookup) {
    FakeZone z;
    z.timeout("example.com");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kTempError);
    EXPECT_NE(o.reason.find("timed out"), std::string::npos);
}

TEST(SpfCheck, Ip4AndIp6) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
    EXPECT_EQ(check(z, "192.0.2.200").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.3.1").result, R::kFail);
    EXPECT_EQ(check(z, "2001:db8:ffff::1").result, R::kPass);
    EXPECT_EQ(check(z, "2001:db9::1").result, R::kFail);
    EXPECT_EQ(check(z, "::ffff:192.0.2.7").result, R::kPass);  // IPv4-mapped is IPv4
    z.txt("mapped.example", "v=spf1 ip6:::ffff:192.0.2.7 ip6:::/0");
    EXPECT_EQ(check(z, "::ffff:192.0.2.7", "a@mapped.example").result, R::kNeutral);
    EXPECT_EQ(check(z, "2001:db8::7", "a@mapped.example").result, R::kPass);
    EXPECT_TRUE(z.asked.size() == 7);  // no DNS beyond the records
}

TEST(SpfCheck, AMechanism) {
    FakeZone z;
    z.txt("example.com", "v=spf1 a -all").a("example.com", "192.0.2.1");
    z.aaaa("example.com", "2001:db8::1");
    z.txt("other.example", "v=spf1 a:host.example.com/24//64 -all");
    z.a("host.example.com", "198.51.100.1").aaaa("host.example.com", "2001:db8:1::1");
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.2.2").result, R::kFail);
    EXPECT_EQ(check(z, "2001:db8::1").result, R::kPass);
    EXPECT_EQ(check(z, "198.51.100.77", "a@other.example").result, R::kPass);
    EXPECT_EQ(check(z, "2001:db8:1::ffff", "a@other.example").result, R::kPass);
    EXPECT_EQ(check(z, "2001:db8:2::1", "a@other.example").result, R::kFail);
    // The lookup type follows the client: AAAA for IPv6, A for IPv4 (and IPv4-mapped).
    z.asked.clear();
    check(z, "::ffff:192.0.2.1");
    ASSERT_EQ(z.asked.size(), 2u);
    EXPECT_EQ(z.asked[1].type, dns::RecordType::kA);
}

TEST(SpfCheck, AWithoutAddressesDoesNotMatchEvenWithSlashZero) {
    FakeZone z;
    z.txt("example.com", "v=spf1 a/0 -all");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kFail);
    EXPECT_EQ(o.void_lookups, 1u);
    z.aaaa("v6only.example", "2001:db8::1").txt("v6only.example", "v=spf1 a//0 -all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@v6only.example").result, R::kFail);
    EXPECT_EQ(check(z, "2001:db8::99", "a@v6only.example").result, R::kPass);
}

TEST(SpfCheck, MechanismDnsErrorsAreTempErrors) {
    FakeZone z;
    z.txt("example.com", "v=spf1 a:slow.example.com -all").timeout("slow.example.com");
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kTempError);
    z.txt("mx.example", "v=spf1 mx -all").mx("mx.example", 10, "slowmx.example");
    z.timeout("slowmx.example");
    EXPECT_EQ(check(z, "192.0.2.1", "a@mx.example").result, R::kTempError);
    z.txt("exists.example", "v=spf1 exists:slow.example.com -all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@exists.example").result, R::kTempError);
}

TEST(SpfCheck, MxMechanism) {
    FakeZone z;
    z.txt("example.com", "v=spf1 mx -all");
    z.mx("example.com", 10, "mx1.example.com").mx("example.com", 20, "mx2.example.com");
    z.a("mx1.example.com", "192.0.2.1").a("mx2.example.com", "192.0.2.2");
    z.aaaa("mx2.example.com", "2001:db8::2");
    EXPECT_EQ(check(z, "192.0.2.2").result, R::kPass);
    EXPECT_EQ(check(z, "2001:db8::2").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.2.3").result, R::kFail);
    auto o = check(z, "192.0.2.2");
    EXPECT_NE(o.reason.find("MX host mx2.example.com"), std::string::npos);
}

TEST(SpfCheck, MxWithoutMxRecordsDoesNotFallBackToA) {
    FakeZone z;
    z.txt("example.com", "v=spf1 mx").a("example.com", "192.0.2.1");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kNeutral);
    EXPECT_EQ(o.void_lookups, 1u);
}

TEST(SpfCheck, NullMxIsSkipped) {
    FakeZone z;
    z.txt("example.com", "v=spf1 mx").mx("example.com", 0, "");
    z.asked.clear();
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kNeutral);
    EXPECT_EQ(z.asked.size(), 2u);  // TXT, MX; nothing for the root name
}

TEST(SpfCheck, MxNameLimit) {
    FakeZone z;
    z.txt("example.com", "v=spf1 mx -all");
    for (int i = 0; i < 11; ++i) {
        std::string host = "mx" + std::to_string(i) + ".example.com";
        z.mx("example.com", i, host).a(host, "192.0.2." + std::to_string(i + 1));
    }
    // More than ten names is a permerror before any is looked up, whatever their order.
    z.asked.clear();
    auto o = check(z, "192.0.2.3");
    EXPECT_EQ(o.result, R::kPermError);
    EXPECT_NE(o.reason.find("more than 10 MX names"), std::string::npos);
    EXPECT_EQ(z.asked.size(), 2u);
    SpfOptions more;
    more.max_names_per_lookup = 11;
    EXPECT_EQ(check(z, "192.0.2.11", "a@example.com", more).result, R::kPass);
}

TEST(SpfCheck, PtrMechanism) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ptr -all").txt("other.example", "v=spf1 ptr:Example.COM -all");
    z.ptr("1.2.0.192.in-addr.arpa", "forged.example.com");  // not validated
    z.ptr("1.2.0.192.in-addr.arpa", "Mail.Example.com");
    z.a("mail.example.com", "192.0.2.1");
    z.a("forged.example.com", "198.51.100.1");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kPass);
    EXPECT_NE(o.reason.find("validated name mail.example.com"), std::string::npos);
    EXPECT_EQ(check(z, "192.0.2.1", "a@other.example").result, R::kPass);
    // No PTR: no match (and a void lookup).
    auto none = check(z, "192.0.2.9");
    EXPECT_EQ(none.result, R::kFail);
    EXPECT_EQ(none.void_lookups, 1u);
}

TEST(SpfCheck, PtrIpv6AndErrors) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ptr -all");
    auto v6 = *IpAddress::parse("2001:db8::1");
    z.ptr(v6.reverse_name(), "host.example.com").aaaa("host.example.com", "2001:db8::1");
    EXPECT_EQ(check(z, "2001:db8::1").result, R::kPass);
    // A PTR lookup error matches nothing; a name whose lookup fails is skipped.
    z.timeout("5.2.0.192.in-addr.arpa");
    EXPECT_EQ(check(z, "192.0.2.5").result, R::kFail);
    z.ptr("6.2.0.192.in-addr.arpa", "slow.example.com")
        .ptr("6.2.0.192.in-addr.arpa", "good.example.com");
    z.timeout("slow.example.com").a("good.example.com", "192.0.2.6");
    EXPECT_EQ(check(z, "192.0.2.6").result, R::kPass);
}

TEST(SpfCheck, PtrNamesPastTheLimitAreIgnored) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ptr");
    for (int i = 0; i < 10; ++i)
        z.ptr("5.2.0.192.in-addr.arpa", "h" + std::to_string(i) + ".other.example");
    z.ptr("5.2.0.192.in-addr.arpa", "mail.example.com").a("mail.example.com", "192.0.2.5");
    EXPECT_EQ(check(z, "192.0.2.5").result, R::kNeutral);
    SpfOptions more;
    more.max_names_per_lookup = 11;
    EXPECT_EQ(check(z, "192.0.2.5", "a@example.com", more).result, R::kPass);
}

TEST(SpfCheck, ExistsMechanism) {
    FakeZone z;
    z.txt("example.com", "v=spf1 exists:%{ir}.list.example.com -all");
    z.a("1.2.0.192.list.example.com", "127.0.0.2");
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.2.2").result, R::kFail);
    // Always an A query, even for an IPv6 client.
    z.txt("v6.example", "v=spf1 exists:mail.example.org -all").aaaa("mail.example.org", "::1");
    z.asked.clear();
    EXPECT_EQ(check(z, "2001:db8::1", "a@v6.example").result, R::kFail);
    EXPECT_EQ(z.asked.back().type, dns::RecordType::kA);
}

TEST(SpfCheck, IncludeResults) {
    FakeZone z;
    z.txt("p.example", "v=spf1 ip4:192.0.2.1 -all").txt("f.example", "v=spf1 -all");
    z.txt("s.example", "v=spf1 ~all").txt("n.example", "v=spf1 ?all");
    z.txt("perm.example", "v=spf1 bogus").timeout("temp.example");
    z.txt("example.com",
          "v=spf1 include:p.example include:f.example include:s.example "
          "include:n.example -all");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kPass);
    EXPECT_EQ(o.mechanism, "include:p.example");
    EXPECT_EQ(o.record_domain, "example.com");
    EXPECT_NE(o.reason.find("ip4:192.0.2.1 matched in the record of p.example"), std::string::npos);
    o = check(z, "192.0.2.2");  // fail, softfail, neutral inside: no match; -all decides
    EXPECT_EQ(o.result, R::kFail);
    EXPECT_EQ(o.mechanism, "-all");
    z.txt("e1.example", "v=spf1 include:temp.example +all");
    z.txt("e2.example", "v=spf1 include:perm.example +all");
    z.txt("e3.example", "v=spf1 include:none.example +all");
    z.txt("e4.example", "v=spf1 include:f.example +all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@e1.example").result, R::kTempError);
    EXPECT_EQ(check(z, "192.0.2.1", "a@e2.example").result, R::kPermError);
    auto none = check(z, "192.0.2.1", "a@e3.example");
    EXPECT_EQ(none.result, R::kPermError);
    EXPECT_NE(none.reason.find("no SPF record at none.example"), std::string::npos);
    EXPECT_EQ(check(z, "192.0.2.1", "a@e4.example").result, R::kPass);
}

TEST(SpfCheck, IncludeEvaluatesInTheTargetsDomain) {
    FakeZone z;
    z.txt("example.com", "v=spf1 include:_spf.example.net -all");
    z.txt("_spf.example.net", "v=spf1 a exists:%{d}.x.example.org");
    z.a("_spf.example.net", "192.0.2.1").a("_spf.example.net.x.example.org", "127.0.0.1");
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kPass);
    EXPECT_EQ(check(z, "192.0.2.9").result, R::kPass);  // through exists:%{d}
}

TEST(SpfCheck, IncludeLoopHitsTheLimit) {
    FakeZone z;
    z.txt("example.com", "v=spf1 include:loop.example -all");
    z.txt("loop.example", "v=spf1 include:example.com");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kPermError);
    EXPECT_EQ(o.dns_terms, 11u);
}

TEST(SpfCheck, Redirect) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ip4:192.0.2.1 redirect=_spf.example.net");
    z.txt("_spf.example.net", "v=spf1 a -all").a("_spf.example.net", "192.0.2.2");
    EXPECT_EQ(check(z, "192.0.2.1").result, R::kPass);
    auto o = check(z, "192.0.2.2");  // the redirected record's "a" means _spf.example.net
    EXPECT_EQ(o.result, R::kPass);
    EXPECT_EQ(o.record_domain, "_spf.example.net");
    EXPECT_EQ(check(z, "192.0.2.3").result, R::kFail);
    // Ignored when a mechanism matched, all included.
    z.txt("all.example", "v=spf1 redirect=_spf.example.net ~all");
    EXPECT_EQ(check(z, "192.0.2.2", "a@all.example").result, R::kSoftFail);
    // A target without a record is a permerror, not none.
    z.txt("gone.example", "v=spf1 redirect=nowhere.example");
    EXPECT_EQ(check(z, "192.0.2.1", "a@gone.example").result, R::kPermError);
    z.txt("self.example", "v=spf1 redirect=self.example");
    EXPECT_EQ(check(z, "192.0.2.1", "a@self.example").result, R::kPermError);
}

TEST(SpfCheck, Explanation) {
    FakeZone z;
    z.txt("example.com", "v=spf1 -all exp=why.%{d}");
    z.txt("why.example.com", "%{i} is not one of %{d}'s designated mail servers (%{c}, %{r}).");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kFail);
    ASSERT_TRUE(o.explanation);
    EXPECT_EQ(*o.explanation,
              "192.0.2.1 is not one of example.com's designated mail servers (192.0.2.1, "
              "mx.receiver.example).");
    // Fetched on fail only.
    z.txt("soft.example", "v=spf1 ~all exp=why.example.com");
    z.asked.clear();
    EXPECT_FALSE(check(z, "192.0.2.1", "a@soft.example").explanation);
    EXPECT_EQ(z.asked.size(), 1u);
}

TEST(SpfCheck, ExplanationProblemsAreIgnored) {
    FakeZone z;
    z.txt("two.example", "one").txt("two.example", "two").timeout("slow.example");
    z.txt("bad.example", "The %{x}-files.")
        .txt("utf8.example",
             "\xEF\xBB\xBF"
             "Explanation");
    z.a("noTXT.example", "192.0.2.1");
    for (const char* target : {"two.example", "slow.example", "bad.example", "utf8.example",
                               "notxt.example", "nxdomain.example"}) {
        z.txt(std::string("d.") + target, std::string("v=spf1 -all exp=") + target);
        auto o = check(z, "192.0.2.1", std::string("a@d.") + target);
        EXPECT_EQ(o.result, R::kFail) << target;
        EXPECT_FALSE(o.explanation) << target;
        EXPECT_EQ(o.void_lookups, 0u) << target;
    }
}

TEST(SpfCheck, ExplanationComesFromTheDecidingRecord) {
    FakeZone z;
    z.txt("exp1.example", "No-see-um").txt("exp2.example", "See me.");
    z.txt("exp3.example", "Correct!");
    z.txt("e3.example", "v=spf1 exp=exp1.example redirect=e4.example");
    z.txt("e4.example", "v=spf1 -all exp=exp2.example");
    z.txt("e1.example", "v=spf1 exp=exp1.example redirect=e2.example");
    z.txt("e2.example", "v=spf1 -all");
    z.txt("e7.example", "v=spf1 include:e3.example -all exp=exp3.example");
    EXPECT_EQ(check(z, "192.0.2.1", "a@e3.example").explanation, "See me.");
    EXPECT_EQ(check(z, "192.0.2.1", "a@e1.example").explanation, std::nullopt);
    EXPECT_EQ(check(z, "192.0.2.1", "a@e7.example").explanation, "Correct!");
}

TEST(SpfCheck, LookupLimit) {
    FakeZone z;
    z.a("example.com", "192.0.2.99");
    z.txt("example.com", "v=spf1 a a a a a a a a a a ip4:192.0.2.1 -all");
    auto o = check(z, "192.0.2.1");
    EXPECT_EQ(o.result, R::kPass);
    EXPECT_EQ(o.dns_terms, 10u);
    z.txt("over.example", "v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all");
    z.a("over.example", "192.0.2.99");
    o = check(z, "192.0.2.1", "a@over.example");
    EXPECT_EQ(o.result, R::kPermError);
    EXPECT_NE(o.reason.find("more than 10 DNS-querying terms"), std::string::npos);
    // The limit counts terms as they are evaluated, across include and redirect.
    z.txt("inc.example", "v=spf1 a a a a a a a a").a("inc.example", "192.0.2.98");
    z.txt("at.example", "v=spf1 a include:inc.example ip4:192.0.2.1 mx -all");
    z.a("at.example", "192.0.2.97");
    EXPECT_EQ(check(z, "192.0.2.1", "a@at.example").result, R::kPass);
    z.txt("past.example", "v=spf1 a include:inc.example a ip4:192.0.2.1 -all");
    z.a("past.example", "192.0.2.97");
    EXPECT_EQ(check(z, "192.0.2.1", "a@past.example").result, R::kPermError);
    SpfOptions three;
    three.max_dns_terms = 3;
    EXPECT_EQ(check(z, "192.0.2.1", "a@example.com", three).result, R::kPermError);
    // all, ip4, ip6 and exp= are not counted.
    z.txt("free.example",
          "v=spf1 ip4:10.0.0.1 ip6:::1 ip4:10.0.0.2 ip4:10.0.0.3 ip4:10.0.0.4 "
          "ip4:10.0.0.5 ip4:10.0.0.6 ip4:10.0.0.7 ip4:10.0.0.8 ip4:10.0.0.9 "
          "ip4:10.0.0.10 -all exp=x.example");
    EXPECT_EQ(check(z, "192.0.2.1", "a@free.example", three).result, R::kFail);
}

TEST(SpfCheck, VoidLookupLimit) {
    FakeZone z;
    z.txt("two.example", "v=spf1 a:nx1.example a:nx2.example ?all");
    z.txt("three.example", "v=spf1 a:nx1.example mx:nx2.example exists:nx3.example ?all");
    EXPECT_EQ(check(z, "192.0.2.1", "a@two.example").result, R::kNeutral);
    auto o = check(z, "192.0.2.1", "a@three.example");
    EXPECT_EQ(o.result, R::kPermError);
    EXPECT_NE(o.reason.find("void"), std::string::npos);
    SpfOptions three;
    three.max_void_lookups = 3;
    EXPECT_EQ(check(z, "192.0.2.1", "a@three.example", three).result, R::kNeutral);
    // NODATA counts as NXDOMAIN does.
    z.txt("nodata.example", "v=spf1 a:v6.example a:v6.example a:v6.example ?all");
    z.aaaa("v6.example", "2001:db8::1");
    EXPECT_EQ(check(z, "192.0.2.1", "a@nodata.example").result, R::kPermError);
}

TEST(SpfCheck, InvalidTargetNamesMatchNothing) {
    FakeZone z;
    z.txt("example.com", "v=spf1 a:mail.example...com a:%{l}.example.com -all");
    auto o = check(z, "192.0.2.1", std::string(70, 'x') + "@example.com");
    EXPECT_EQ(o.result, R::kFail);
    EXPECT_EQ(z.asked.size(), 1u);  // neither name was asked
}

TEST(SpfCheck, LongExpansionsLoseLabelsOnTheLeft) {
    FakeZone z;
    std::string o = "somewhat.long.exp.example.com";
    z.txt(o, "v=spf1 -all exp=foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com");
    std::string target;
    for (int i = 0; i < 8; ++i)
        target += o + ".";
    target += "example.com";
    ASSERT_EQ(target.size(), 251u);
    z.txt(target, "Congratulations!  That was tricky.");
    EXPECT_EQ(check(z, "192.0.2.1", "test@" + o).explanation, "Congratulations!  That was tricky.");
}

TEST(SpfCheck, ValidatedNameMacro) {
    FakeZone z;
    z.txt("example.com", "v=spf1 -all exp=msg.example.com").txt("msg.example.com", "from %{p}");
    z.ptr("1.2.0.192.in-addr.arpa", "mx.example.net").a("mx.example.net", "192.0.2.1");
    z.ptr("2.2.0.192.in-addr.arpa", "unvalidated.example.net");
    z.ptr("3.2.0.192.in-addr.arpa", "mx.example.net")
        .ptr("3.2.0.192.in-addr.arpa", "mx.example.com");
    z.a("mx.example.net", "192.0.2.3").a("mx.example.com", "192.0.2.3");
    EXPECT_EQ(check(z, "192.0.2.1").explanation, "from mx.example.net");
    EXPECT_EQ(check(z, "192.0.2.2").explanation, "from unknown");
    EXPECT_EQ(check(z, "192.0.2.4").explanation, "from unknown");
    // A subdomain of <domain> is preferred.
    EXPECT_EQ(check(z, "192.0.2.3").explanation, "from mx.example.com");
    // In a domain-spec too; its lookups do not count as terms or void lookups.
    z.txt("p.example", "v=spf1 exists:%{p}.ok.example.org -all");
    z.a("mx.example.net.ok.example.org", "127.0.0.2");
    auto out = check(z, "192.0.2.1", "a@p.example");
    EXPECT_EQ(out.result, R::kPass);
    EXPECT_EQ(out.dns_terms, 1u);
    EXPECT_EQ(check(z, "192.0.2.9", "a@p.example").void_lookups, 1u);  // unknown.ok... only
}

TEST(SpfCheck, HeloIdentity) {
    FakeZone z;
    z.txt("mail.example.net", "v=spf1 a -all exp=e.example.net").a("mail.example.net", "192.0.2.1");
    z.txt("e.example.net", "%{s} %{l} %{o} %{h}");
    SpfRequest r = mail_from("192.0.2.2", "");
    auto o = run_check(z, r);
    EXPECT_EQ(o.identity, SpfIdentity::kHelo);
    EXPECT_EQ(o.result, R::kFail);
    EXPECT_EQ(o.sender, "postmaster@mail.example.net");
    EXPECT_EQ(o.explanation,
              "postmaster@mail.example.net postmaster mail.example.net mail.example.net");
    r = mail_from("192.0.2.1", "someone@elsewhere.example");
    r.identity = SpfIdentity::kHelo;
    EXPECT_EQ(run_check(z, r).result, R::kPass);
    // A HELO name that is not a domain gives none.
    for (const char* helo : {"A2345678", "[192.0.2.1]", "", "JUMPIN' JUPITER"}) {
        SpfRequest bad = mail_from("192.0.2.1", "", helo);
        EXPECT_EQ(run_check(z, bad).result, R::kNone) << helo;
    }
}

TEST(SpfCheck, SenderWithoutLocalPart) {
    FakeZone z;
    z.txt("example.net", "v=spf1 -all exp=e.example.net").txt("e.example.net", "%{l}/%{s}");
    EXPECT_EQ(check(z, "192.0.2.1", "@example.net").explanation,
              "postmaster/postmaster@example.net");
    EXPECT_EQ(check(z, "192.0.2.1", "example.net").explanation,
              "postmaster/postmaster@example.net");
    EXPECT_EQ(check(z, "192.0.2.1", "Macro Error@example.net").explanation,
              "Macro Error/Macro Error@example.net");
}

TEST(SpfCheck, TimeOut) {
    FakeZone z;
    z.txt("example.com", "v=spf1 a -all exp=e.example.com").txt("e.example.com", "no");
    SpfCheck c(mail_from("192.0.2.1", "a@example.com"));
    c.feed(z.answer(*c.next_query()));
    ASSERT_TRUE(c.next_query());
    c.time_out();
    EXPECT_TRUE(c.done());
    EXPECT_FALSE(c.next_query());
    EXPECT_EQ(c.outcome().result, R::kTempError);
    // Once the result is known, running out of time only loses the explanation.
    SpfCheck d(mail_from("192.0.2.1", "a@example.com"));
    d.feed(z.answer(*d.next_query()));
    d.feed(z.answer(*d.next_query()));
    ASSERT_TRUE(d.next_query());
    EXPECT_EQ(d.next_query()->name, "e.example.com");
    d.time_out();
    EXPECT_EQ(d.outcome().result, R::kFail);
    EXPECT_FALSE(d.outcome().explanation);
}

TEST(SpfCheck, FeedWithoutAQuestionIsIgnored) {
    FakeZone z;
    z.txt("example.com", "v=spf1 -all");
    SpfCheck c(mail_from("192.0.2.1", "a@example.com"));
    auto q = c.next_query();
    ASSERT_TRUE(q);
    EXPECT_EQ(q->name, "example.com");
    EXPECT_EQ(q->type, dns::RecordType::kTxt);
    EXPECT_EQ(c.next_query(), q);  // asked again until answered
    c.feed(z.answer(*q));
    EXPECT_TRUE(c.done());
    c.feed(z.answer(*q));
    EXPECT_EQ(c.outcome().result, R::kFail);
}

}  // namespace
}  // namespace tern::mailauth
