// DMARC evaluation against a stand-in DNS: policy discovery by the DMARCbis tree walk (psd=,
// np=, the eight-query limit, DNS failures at each step), relaxed and strict alignment of SPF
// and DKIM identities, and RFC 7489's public suffix list as the alternative.
#include "mailauth/dmarc_evaluator.h"

#include <gtest/gtest.h>

#include "dmarc_test_dns.h"
#include "mailauth/lookups.h"
#include "mailauth/public_suffix_list.h"

namespace tern::mailauth {
namespace {

static_assert(LookupDriven<DmarcEvaluator>);

using testing::FakeDns;
using State = IdentifierAlignment::State;
using Strings = std::vector<std::string>;

SpfEvidence spf_pass(std::string domain) {
    return {AuthResult::kPass, std::move(domain), SpfEvidence::Identity::kMailFrom, {}, {}};
}

DkimOutcome dkim(std::string domain, AuthResult result = AuthResult::kPass) {
    return {result, std::move(domain), "sel", {}, {}};
}

DmarcResult evaluate(FakeDns& dns, std::string author, std::optional<SpfEvidence> spf,
                     std::vector<DkimOutcome> sigs = {}, DmarcOptions options = {}) {
    DmarcEvaluator e(std::move(author), std::move(spf), std::move(sigs), options);
    return dns.run(e);
}

TEST(DmarcEvaluator, RecordAtTheAuthorDomainAndIdenticalSpfDomainPassWithOneQuery) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    DmarcResult r = evaluate(dns, "example.com", spf_pass("example.com"));
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.policy_domain, "example.com");
    EXPECT_EQ(r.policy, DmarcPolicy::kReject);
    EXPECT_EQ(r.scope, DmarcRecord::Scope::kDomain);
    EXPECT_TRUE(r.spf_aligned());
    EXPECT_EQ(dns.asked, Strings{"_dmarc.example.com"});
    EXPECT_EQ(r.queries, 1u);
}

TEST(DmarcEvaluator, NoRecordAnywhereIsNoneAfterTheWholeWalk) {
    FakeDns dns;
    DmarcResult r = evaluate(dns, "a.mail.example.com", spf_pass("a.mail.example.com"));
    EXPECT_EQ(r.result, AuthResult::kNone);
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.a.mail.example.com", "_dmarc.mail.example.com",
                                  "_dmarc.example.com", "_dmarc.com"}));
    EXPECT_TRUE(r.identifiers.empty());  // nothing is aligned when DMARC does not apply
}

TEST(DmarcEvaluator, NonDmarcTxtRecordsAreDiscarded) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=spf1 -all", "hello", "v=DMARC1; p=quarantine"};
    DmarcResult r = evaluate(dns, "example.com", std::nullopt);
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_EQ(r.policy, DmarcPolicy::kQuarantine);
    EXPECT_EQ(r.reason, "no SPF or DKIM pass to align with example.com");
}

TEST(DmarcEvaluator, RelaxedSpfAlignmentFindsBothOrganizationalDomains) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    DmarcResult r = evaluate(dns, "example.com", spf_pass("cbg.bounces.example.com"));
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.organizational_domain, "example.com");
    // The Author Domain's walk, then the identifier's, each name asked once.
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.example.com", "_dmarc.com",
                                  "_dmarc.cbg.bounces.example.com", "_dmarc.bounces.example.com"}));
}

TEST(DmarcEvaluator, StrictSpfAlignmentWantsTheSameDomain) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject; aspf=s"};
    DmarcResult r = evaluate(dns, "example.com", spf_pass("bounces.example.com"));
    EXPECT_EQ(r.result, AuthResult::kFail);
    ASSERT_EQ(r.identifiers.size(), 1u);
    EXPECT_EQ(r.identifiers[0].state, State::kNotAligned);
    EXPECT_EQ(dns.asked, Strings{"_dmarc.example.com"});  // a string comparison needs no DNS
    EXPECT_EQ(r.policy, DmarcPolicy::kReject);
}

TEST(DmarcEvaluator, StrictAndRelaxedDkimAlignment) {
    FakeDns dns;
    dns.txt["_dmarc.news.example.com"] = {"v=DMARC1; p=reject; adkim=s"};
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=none"};
    DmarcResult strict = evaluate(dns, "news.example.com", std::nullopt, {dkim("example.com")});
    EXPECT_EQ(strict.result, AuthResult::kFail);
    dns.txt["_dmarc.news.example.com"] = {"v=DMARC1; p=reject"};
    DmarcResult relaxed = evaluate(dns, "news.example.com", std::nullopt, {dkim("example.com")});
    EXPECT_EQ(relaxed.result, AuthResult::kPass);
    EXPECT_TRUE(relaxed.dkim_aligned());
    EXPECT_FALSE(relaxed.spf_aligned());
}

TEST(DmarcEvaluator, OnlyPassingIdentifiersOfTheMailFromIdentityCount) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    SpfEvidence helo{AuthResult::kPass, "example.com", SpfEvidence::Identity::kHelo, {}, {}};
    DmarcResult r = evaluate(
        dns, "example.com", helo,
        {dkim("example.com", AuthResult::kFail), dkim("example.com", AuthResult::kTempError)});
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_TRUE(r.identifiers.empty());
}

TEST(DmarcEvaluator, UnrelatedDomainsNeedNoWalkOfTheIdentifier) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    DmarcResult r = evaluate(dns, "example.com", spf_pass("example.net"), {dkim("evil.example")});
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.example.com", "_dmarc.com"}));
}

TEST(DmarcEvaluator, PolicyFromTheOrganizationalDomainUsesSp) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject; sp=quarantine"};
    DmarcResult r = evaluate(dns, "mail.example.com", std::nullopt);
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_EQ(r.policy_domain, "example.com");
    EXPECT_EQ(r.organizational_domain, "example.com");
    EXPECT_EQ(r.scope, DmarcRecord::Scope::kSubdomain);
    EXPECT_EQ(r.policy, DmarcPolicy::kQuarantine);
    // No np=: whether mail.example.com exists is never asked.
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.mail.example.com", "_dmarc.example.com", "_dmarc.com"}));
}

TEST(DmarcEvaluator, NpAppliesToAnAuthorDomainThatDoesNotExist) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=none; sp=quarantine; np=reject"};
    dns.nonexistent.insert("nosuch.example.com");
    DmarcResult gone = evaluate(dns, "nosuch.example.com", std::nullopt);
    EXPECT_EQ(gone.result, AuthResult::kFail);
    EXPECT_EQ(gone.scope, DmarcRecord::Scope::kNonExistentSubdomain);
    EXPECT_EQ(gone.policy, DmarcPolicy::kReject);
    EXPECT_EQ(dns.asked.back(), "nosuch.example.com");
    DmarcResult there = evaluate(dns, "www.example.com", std::nullopt);
    EXPECT_EQ(there.scope, DmarcRecord::Scope::kSubdomain);
    EXPECT_EQ(there.policy, DmarcPolicy::kQuarantine);
}

TEST(DmarcEvaluator, NpIsNotAskedForAPassingMessage) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=none; np=reject"};
    DmarcResult r = evaluate(dns, "nosuch.example.com", spf_pass("example.com"));
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(std::count(dns.asked.begin(), dns.asked.end(), "nosuch.example.com"), 0);
}

TEST(DmarcEvaluator, ExistenceCheckFailureIsTemperror) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=none; np=reject"};
    dns.failing.insert("nosuch.example.com");
    DmarcResult r = evaluate(dns, "nosuch.example.com", std::nullopt);
    EXPECT_EQ(r.result, AuthResult::kTempError);
    EXPECT_NE(r.reason.find("nosuch.example.com exists"), std::string::npos) << r.reason;
}

// DMARCbis appendix B.4.3.
TEST(DmarcEvaluator, PsdYesEndsTheWalkOneLabelBelow) {
    FakeDns dns;
    dns.txt["_dmarc.bank.example"] = {"v=DMARC1; p=reject; psd=y"};
    dns.txt["_dmarc.giant.bank.example"] = {"v=DMARC1; p=quarantine"};
    DmarcResult r = evaluate(dns, "giant.bank.example", spf_pass("mail.giant.bank.example"),
                             {dkim("mail.mega.bank.example")});
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.organizational_domain, "giant.bank.example");
    ASSERT_EQ(r.identifiers.size(), 2u);
    EXPECT_EQ(r.identifiers[0].state, State::kAligned);     // SPF
    EXPECT_EQ(r.identifiers[1].state, State::kNotAligned);  // DKIM: mega.bank.example
    EXPECT_EQ(std::count(dns.asked.begin(), dns.asked.end(), "_dmarc.example"), 0);
}

TEST(DmarcEvaluator, PsdPolicyAppliesToADomainWithoutItsOwnRecord) {
    FakeDns dns;
    dns.txt["_dmarc.bank.example"] = {"v=DMARC1; p=none; sp=reject; psd=y"};
    DmarcResult r = evaluate(dns, "shop.bank.example", spf_pass("other.bank.example"));
    EXPECT_EQ(r.result, AuthResult::kFail);  // other.bank.example is another organization
    EXPECT_EQ(r.organizational_domain, "shop.bank.example");
    EXPECT_EQ(r.policy_domain, "bank.example");
    EXPECT_EQ(r.policy, DmarcPolicy::kReject);
}

TEST(DmarcEvaluator, PsdNoMakesItsDomainTheOrganizationalDomain) {
    FakeDns dns;
    dns.txt["_dmarc.mail.example.com"] = {"v=DMARC1; p=reject; psd=n"};
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=none"};
    DmarcResult r = evaluate(dns, "a.mail.example.com", spf_pass("example.com"));
    EXPECT_EQ(r.result, AuthResult::kFail);  // example.com is above the Organizational Domain
    EXPECT_EQ(r.organizational_domain, "mail.example.com");
    EXPECT_EQ(r.policy_domain, "mail.example.com");
    EXPECT_EQ(r.policy, DmarcPolicy::kReject);
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.a.mail.example.com", "_dmarc.mail.example.com"}));
}

TEST(DmarcEvaluator, TheFewestLabelsWinWithoutPsd) {
    FakeDns dns;
    dns.txt["_dmarc.mail.example.com"] = {"v=DMARC1; p=reject"};
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=quarantine"};
    DmarcResult r = evaluate(dns, "a.mail.example.com", spf_pass("x.example.com"));
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.organizational_domain, "example.com");
    EXPECT_EQ(r.policy_domain, "example.com");  // the intermediate record is not a policy source
}

// DMARCbis appendix B.4.2: eight queries at most, the long name shortened to seven labels.
TEST(DmarcEvaluator, DeepNamesWalkAtMostEightQueries) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    DmarcResult r = evaluate(dns, "a.b.c.d.e.f.g.h.i.j.k.example.com", std::nullopt);
    EXPECT_EQ(r.policy_domain, "example.com");
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.a.b.c.d.e.f.g.h.i.j.k.example.com",
                                  "_dmarc.g.h.i.j.k.example.com", "_dmarc.h.i.j.k.example.com",
                                  "_dmarc.i.j.k.example.com", "_dmarc.j.k.example.com",
                                  "_dmarc.k.example.com", "_dmarc.example.com", "_dmarc.com"}));
}

TEST(DmarcEvaluator, TheWalkLengthIsAnOption) {
    FakeDns dns;
    DmarcOptions options;
    options.max_walk_queries = 5;  // draft-ietf-dmarc-dmarcbis-23 walked five
    evaluate(dns, "a.b.c.d.e.mail.example.com", std::nullopt, {}, options);
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.a.b.c.d.e.mail.example.com", "_dmarc.e.mail.example.com",
                                  "_dmarc.mail.example.com", "_dmarc.example.com", "_dmarc.com"}));
}

TEST(DmarcEvaluator, ADnsFailureAtTheAuthorDomainIsTemperror) {
    FakeDns dns;
    dns.failing.insert("_dmarc.example.com");
    DmarcResult r = evaluate(dns, "example.com", spf_pass("example.com"));
    EXPECT_EQ(r.result, AuthResult::kTempError);
    EXPECT_EQ(r.reason, "DNS failure at _dmarc.example.com (SERVFAIL)");
    EXPECT_EQ(dns.asked.size(), 1u);
}

TEST(DmarcEvaluator, ADnsFailureDuringPolicyDiscoveryIsTemperror) {
    FakeDns dns;
    dns.txt["_dmarc.mail.example.com"] = {"v=DMARC1; p=reject"};
    dns.failing.insert("_dmarc.example.com");
    DmarcResult r = evaluate(dns, "a.mail.example.com", spf_pass("a.mail.example.com"));
    EXPECT_EQ(r.result, AuthResult::kTempError);
    EXPECT_EQ(r.reason, "DNS failure at _dmarc.example.com (SERVFAIL)");
}

TEST(DmarcEvaluator, ADnsFailureInAnIdentifierWalkMattersOnlyWithoutAnotherAlignment) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    dns.failing.insert("_dmarc.bounce.example.com");
    DmarcResult unknown = evaluate(dns, "example.com", spf_pass("bounce.example.com"));
    EXPECT_EQ(unknown.result, AuthResult::kTempError);
    ASSERT_EQ(unknown.identifiers.size(), 1u);
    EXPECT_EQ(unknown.identifiers[0].state, State::kUnknown);
    DmarcResult passed =
        evaluate(dns, "example.com", spf_pass("bounce.example.com"), {dkim("example.com")});
    EXPECT_EQ(passed.result, AuthResult::kPass);
    EXPECT_EQ(passed.identifiers[0].state, State::kUnknown);
    EXPECT_EQ(passed.identifiers[1].state, State::kAligned);
}

TEST(DmarcEvaluator, SeveralRecordsAtOneNameAreAllDiscarded) {
    FakeDns dns;
    dns.txt["_dmarc.mail.example.com"] = {"v=DMARC1; p=none", "v=DMARC1; p=reject"};
    DmarcResult none = evaluate(dns, "mail.example.com", std::nullopt);
    EXPECT_EQ(none.result, AuthResult::kNone);
    EXPECT_NE(none.reason.find("several DMARC records"), std::string::npos) << none.reason;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=quarantine"};
    DmarcResult parent = evaluate(dns, "mail.example.com", std::nullopt);
    EXPECT_EQ(parent.policy_domain, "example.com");
    EXPECT_EQ(parent.policy, DmarcPolicy::kQuarantine);
}

TEST(DmarcEvaluator, AnUnusableRecordIsPermerrorAndRuaMakesItNone) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=always"};
    DmarcResult bad = evaluate(dns, "example.com", std::nullopt);
    EXPECT_EQ(bad.result, AuthResult::kPermError);
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=always; rua=mailto:r@example.com"};
    DmarcResult with_rua = evaluate(dns, "example.com", std::nullopt);
    EXPECT_EQ(with_rua.result, AuthResult::kFail);
    EXPECT_EQ(with_rua.policy, DmarcPolicy::kNone);
}

TEST(DmarcEvaluator, TestingIsReported) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject; t=y"};
    DmarcResult r = evaluate(dns, "example.com", std::nullopt);
    EXPECT_EQ(r.policy, DmarcPolicy::kReject);
    EXPECT_TRUE(r.testing);
}

TEST(DmarcEvaluator, TheQueryLimitStopsFurtherIdentifiers) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    DmarcOptions options;
    options.max_queries = 3;
    DmarcResult r = evaluate(dns, "example.com", spf_pass("a.b.c.example.com"), {}, options);
    EXPECT_EQ(dns.asked.size(), 3u);
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_EQ(r.identifiers[0].state, State::kNotChecked);
}

TEST(DmarcEvaluator, TheIdentifierLimitCountsDistinctDkimDomains) {
    FakeDns dns;
    dns.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject"};
    DmarcOptions options;
    options.max_identifiers = 2;
    DmarcResult r = evaluate(
        dns, "example.com", std::nullopt,
        {dkim("a.example"), dkim("a.example"), dkim("b.example"), dkim("example.com")}, options);
    ASSERT_EQ(r.identifiers.size(), 3u);
    EXPECT_EQ(r.identifiers[2].state, State::kNotChecked);
    EXPECT_EQ(r.result, AuthResult::kFail);
}

TEST(DmarcEvaluator, InternationalisedAuthorDomainsAreAskedInALabelForm) {
    FakeDns dns;
    dns.txt["_dmarc.xn--bcher-kva.example"] = {"v=DMARC1; p=reject"};
    DmarcResult r = evaluate(dns, "Bücher.example", spf_pass("xn--bcher-kva.example"));
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.author_domain, "xn--bcher-kva.example");
    EXPECT_EQ(dns.asked.front(), "_dmarc.xn--bcher-kva.example");
}

TEST(DmarcEvaluator, WithoutAnAuthorDomainTheResultIsPermerror) {
    FakeDns dns;
    auto e = DmarcEvaluator::without_author("the message has 2 From fields");
    DmarcResult r = dns.run(e);
    EXPECT_EQ(r.result, AuthResult::kPermError);
    EXPECT_EQ(r.reason, "the message has 2 From fields");
    DmarcEvaluator bad("exa mple.com", std::nullopt, {});
    EXPECT_EQ(dns.run(bad).result, AuthResult::kPermError);
    EXPECT_TRUE(dns.asked.empty());
}

TEST(DmarcEvaluator, PublicSuffixListDiscoveryAsksTwoNamesAtMost) {
    auto psl = PublicSuffixList::parse("com\nco.uk\n");
    FakeDns dns;
    dns.txt["_dmarc.example.co.uk"] = {"v=DMARC1; p=reject; sp=quarantine"};
    dns.txt["_dmarc.co.uk"] = {"v=DMARC1; p=none; psd=y"};
    DmarcOptions options;
    options.discovery = DmarcOptions::Discovery::kPublicSuffixList;
    options.public_suffixes = &psl;
    DmarcResult r =
        evaluate(dns, "a.b.example.co.uk", spf_pass("bounce.example.co.uk"), {}, options);
    EXPECT_EQ(r.result, AuthResult::kPass);
    EXPECT_EQ(r.policy_domain, "example.co.uk");
    EXPECT_EQ(r.organizational_domain, "example.co.uk");
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.a.b.example.co.uk", "_dmarc.example.co.uk"}));
    DmarcResult unaligned =
        evaluate(dns, "a.b.example.co.uk", spf_pass("other.co.uk"), {}, options);
    EXPECT_EQ(unaligned.result, AuthResult::kFail);
    EXPECT_EQ(unaligned.policy, DmarcPolicy::kQuarantine);
}

TEST(DmarcEvaluator, PublicSuffixListWithoutARecordIsNone) {
    auto psl = PublicSuffixList::parse("com\n");
    FakeDns dns;
    DmarcOptions options;
    options.discovery = DmarcOptions::Discovery::kPublicSuffixList;
    options.public_suffixes = &psl;
    DmarcResult r = evaluate(dns, "example.com", std::nullopt, {}, options);
    EXPECT_EQ(r.result, AuthResult::kNone);
    EXPECT_EQ(dns.asked, Strings{"_dmarc.example.com"});
}

TEST(DmarcEvaluator, MissingListFallsBackToTheTreeWalk) {
    FakeDns dns;
    DmarcOptions options;
    options.discovery = DmarcOptions::Discovery::kPublicSuffixList;
    evaluate(dns, "a.example.com", std::nullopt, {}, options);
    EXPECT_EQ(dns.asked, (Strings{"_dmarc.a.example.com", "_dmarc.example.com", "_dmarc.com"}));
}

}  // namespace
}  // namespace tern::mailauth
