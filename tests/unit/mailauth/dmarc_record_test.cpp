// The DMARC record grammar (DMARCbis section 4.8): v=DMARC1 first, every tag and its defaults,
// syntax errors discarded tag by tag, unknown tags ignored.
#include "mailauth/dmarc_record.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

using Scope = DmarcRecord::Scope;

DmarcRecord parse(std::string_view text) {
    auto r = parse_dmarc_record(text);
    EXPECT_TRUE(r) << text;
    return r.value_or(DmarcRecord{});
}

TEST(DmarcRecord, VersionMustComeFirstAndMatchExactly) {
    EXPECT_TRUE(parse_dmarc_record("v=DMARC1"));
    EXPECT_TRUE(parse_dmarc_record("v=DMARC1;"));
    EXPECT_TRUE(parse_dmarc_record("V = DMARC1 ; p = reject"));  // tag names are not case-bound
    EXPECT_TRUE(parse_dmarc_record(" v=DMARC1; p=none"));
    EXPECT_FALSE(parse_dmarc_record("v=dmarc1; p=reject"));  // the value is case-sensitive
    EXPECT_FALSE(parse_dmarc_record("p=reject; v=DMARC1"));
    EXPECT_FALSE(parse_dmarc_record("v=DMARC1p=reject"));
    EXPECT_FALSE(parse_dmarc_record("v=DMARC2; p=reject"));
    EXPECT_FALSE(parse_dmarc_record("v=spf1 -all"));
    EXPECT_FALSE(parse_dmarc_record(""));
    EXPECT_FALSE(parse_dmarc_record("; v=DMARC1"));
}

TEST(DmarcRecord, DefaultsWhenOnlyTheVersionIsGiven) {
    DmarcRecord r = parse("v=DMARC1");
    EXPECT_FALSE(r.p);
    EXPECT_EQ(r.policy_for(Scope::kDomain), DmarcPolicy::kNone);  // p= absent reads as none
    EXPECT_EQ(r.adkim, Alignment::kRelaxed);
    EXPECT_EQ(r.aspf, Alignment::kRelaxed);
    EXPECT_EQ(r.psd, PsdFlag::kUnknown);
    EXPECT_FALSE(r.testing);
    EXPECT_EQ(r.fo, "0");
    EXPECT_TRUE(r.rua.empty());
    EXPECT_TRUE(r.usable());
    EXPECT_TRUE(r.errors.empty());
}

TEST(DmarcRecord, PolicyTags) {
    DmarcRecord r = parse("v=DMARC1; p=Reject; sp=quarantine; np=none");
    EXPECT_EQ(r.p, DmarcPolicy::kReject);
    EXPECT_EQ(r.sp, DmarcPolicy::kQuarantine);
    EXPECT_EQ(r.np, DmarcPolicy::kNone);
    EXPECT_EQ(r.policy_for(Scope::kDomain), DmarcPolicy::kReject);
    EXPECT_EQ(r.policy_for(Scope::kSubdomain), DmarcPolicy::kQuarantine);
    EXPECT_EQ(r.policy_for(Scope::kNonExistentSubdomain), DmarcPolicy::kNone);
}

TEST(DmarcRecord, SubdomainPoliciesFallBackInOrder) {
    DmarcRecord p_only = parse("v=DMARC1; p=quarantine");
    EXPECT_EQ(p_only.policy_for(Scope::kSubdomain), DmarcPolicy::kQuarantine);
    EXPECT_EQ(p_only.policy_for(Scope::kNonExistentSubdomain), DmarcPolicy::kQuarantine);
    DmarcRecord with_sp = parse("v=DMARC1; p=none; sp=reject");
    EXPECT_EQ(with_sp.policy_for(Scope::kNonExistentSubdomain), DmarcPolicy::kReject);
    DmarcRecord with_np = parse("v=DMARC1; p=none; np=reject");
    EXPECT_EQ(with_np.policy_for(Scope::kSubdomain), DmarcPolicy::kNone);
    EXPECT_EQ(with_np.policy_for(Scope::kNonExistentSubdomain), DmarcPolicy::kReject);
}

TEST(DmarcRecord, InvalidPolicyWithoutRuaGivesNoPolicy) {
    for (std::string_view text :
         {"v=DMARC1; p=bogus", "v=DMARC1; p=reject; sp=all", "v=DMARC1; p=reject; np=0"}) {
        DmarcRecord r = parse(text);
        EXPECT_FALSE(r.policy_tags_valid()) << text;
        EXPECT_FALSE(r.usable()) << text;
        EXPECT_EQ(r.errors.size(), 1u) << text;
    }
}

TEST(DmarcRecord, InvalidPolicyWithRuaActsAsNone) {
    DmarcRecord r = parse("v=DMARC1; p=reject; sp=bogus; rua=mailto:d@example.com");
    EXPECT_TRUE(r.usable());
    EXPECT_EQ(r.policy_for(Scope::kDomain), DmarcPolicy::kNone);
    EXPECT_EQ(r.policy_for(Scope::kSubdomain), DmarcPolicy::kNone);
}

TEST(DmarcRecord, PsdTestingAndAlignment) {
    EXPECT_EQ(parse("v=DMARC1; psd=y").psd, PsdFlag::kYes);
    EXPECT_EQ(parse("v=DMARC1; psd=N").psd, PsdFlag::kNo);
    EXPECT_EQ(parse("v=DMARC1; psd=u").psd, PsdFlag::kUnknown);
    DmarcRecord bad_psd = parse("v=DMARC1; psd=yes");
    EXPECT_EQ(bad_psd.psd, PsdFlag::kUnknown);
    EXPECT_EQ(bad_psd.errors.size(), 1u);
    EXPECT_TRUE(parse("v=DMARC1; t=y").testing);
    EXPECT_FALSE(parse("v=DMARC1; t=n").testing);
    EXPECT_FALSE(parse("v=DMARC1; t=maybe").testing);
    DmarcRecord strict = parse("v=DMARC1; adkim=s; aspf=S");
    EXPECT_EQ(strict.adkim, Alignment::kStrict);
    EXPECT_EQ(strict.aspf, Alignment::kStrict);
    DmarcRecord bad = parse("v=DMARC1; adkim=x; aspf=strict");
    EXPECT_EQ(bad.adkim, Alignment::kRelaxed);
    EXPECT_EQ(bad.aspf, Alignment::kRelaxed);
    EXPECT_EQ(bad.errors.size(), 2u);
}

TEST(DmarcRecord, PctIsKeptAndZeroMeansTestingUnlessTSaysOtherwise) {
    EXPECT_EQ(parse("v=DMARC1; pct=50").pct, 50);
    EXPECT_FALSE(parse("v=DMARC1; pct=50").testing);
    EXPECT_TRUE(parse("v=DMARC1; p=reject; pct=0").testing);
    EXPECT_FALSE(parse("v=DMARC1; p=reject; pct=0; t=n").testing);
    EXPECT_FALSE(parse("v=DMARC1; pct=101").pct);
    EXPECT_FALSE(parse("v=DMARC1; pct=-1").pct);
}

TEST(DmarcRecord, ReportingUrisAreCheckedOneByOne) {
    DmarcRecord r = parse(
        "v=DMARC1; rua=mailto:agg@example.com, mailto:big@example.net!10m ,not a uri,"
        "https://reports.example/x%20y; ruf=mailto:f@example.com!5");
    EXPECT_EQ(r.rua, (std::vector<std::string>{"mailto:agg@example.com", "mailto:big@example.net",
                                               "https://reports.example/x%20y"}));
    EXPECT_EQ(r.ruf, (std::vector<std::string>{"mailto:f@example.com"}));
    EXPECT_EQ(r.errors.size(), 1u);
    EXPECT_TRUE(parse("v=DMARC1; rua=mailto:a@b%zz").rua.empty());
    EXPECT_TRUE(parse("v=DMARC1; rua=:nothing").rua.empty());
}

TEST(DmarcRecord, FailureOptions) {
    EXPECT_EQ(parse("v=DMARC1; fo=1").fo, "1");
    EXPECT_EQ(parse("v=DMARC1; fo=0:d:s").fo, "0:d:s");
    EXPECT_EQ(parse("v=DMARC1; fo=d").fo, "d");
    for (std::string_view bad :
         {"v=DMARC1; fo=0:1", "v=DMARC1; fo=d:d", "v=DMARC1; fo=x", "v=DMARC1; fo=0::d"}) {
        DmarcRecord r = parse(bad);
        EXPECT_EQ(r.fo, "0") << bad;
        EXPECT_EQ(r.errors.size(), 1u) << bad;
    }
}

TEST(DmarcRecord, HistoricTagsAreToleratedAndUnknownTagsIgnored) {
    DmarcRecord r = parse("v=DMARC1; p=none; rf=afrf; ri=86400; future=1; x-tag=2");
    EXPECT_EQ(r.rf, "afrf");
    EXPECT_EQ(r.ri, "86400");
    EXPECT_EQ(r.errors.size(), 1u);  // "x-tag" is no 1*ALPHA name; "future" is merely unknown
}

TEST(DmarcRecord, SyntaxErrorsAreDiscardedTagByTag) {
    DmarcRecord r = parse("v=DMARC1;; p=reject; garbage; sp=; p=none; adkim=s;");
    EXPECT_EQ(r.p, DmarcPolicy::kReject);  // the first p= counts
    EXPECT_EQ(r.adkim, Alignment::kStrict);
    EXPECT_FALSE(r.sp);
    EXPECT_EQ(r.errors.size(), 3u);  // "garbage", "sp=" without a value, the second p=
    DmarcRecord controls = parse("v=DMARC1; p=reject\x01; aspf=s");
    EXPECT_FALSE(controls.p);
    EXPECT_EQ(controls.aspf, Alignment::kStrict);
}

TEST(DmarcRecord, PolicyNames) {
    EXPECT_EQ(policy_name(DmarcPolicy::kNone), "none");
    EXPECT_EQ(policy_name(DmarcPolicy::kQuarantine), "quarantine");
    EXPECT_EQ(policy_name(DmarcPolicy::kReject), "reject");
}

}  // namespace
}  // namespace tern::mailauth
