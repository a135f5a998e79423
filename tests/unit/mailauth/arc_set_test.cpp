// The ARC field parsers: the AAR instance prefix, the ARC-Message-Signature and ARC-Seal tags,
// and the grouping into sets with each structural reason of RFC 8617 section 5.2.
#include "mailauth/arc_set.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

const std::string kSig = "a=rsa-sha256; d=relay.example; s=s1; b=AAAA";
const std::string kFrom = "From: a@b.example\r\n";

std::string aar(unsigned i) {
    return "ARC-Authentication-Results: i=" + std::to_string(i) + "; relay.example; spf=pass\r\n";
}
std::string ams(unsigned i) {
    return "ARC-Message-Signature: i=" + std::to_string(i) + "; " + kSig +
           "; c=relaxed/relaxed; h=from; bh=AAAA\r\n";
}
std::string seal(unsigned i, std::string_view cv) {
    return "ARC-Seal: i=" + std::to_string(i) + "; cv=" + std::string(cv) + "; " + kSig + "\r\n";
}

std::vector<std::string> chain_of(unsigned n) {
    std::vector<std::string> fields;
    for (unsigned i = n; i >= 1; --i) {
        fields.push_back(seal(i, i == 1 ? "none" : "pass"));
        fields.push_back(ams(i));
        fields.push_back(aar(i));
    }
    fields.push_back(kFrom);
    return fields;
}

TEST(ArcSet, FieldKinds) {
    EXPECT_EQ(arc_field_kind("arc-seal"), ArcFieldKind::kSeal);
    EXPECT_EQ(arc_field_kind("ARC-Message-Signature"), ArcFieldKind::kMessageSignature);
    EXPECT_EQ(arc_field_kind("Arc-Authentication-Results"), ArcFieldKind::kAuthResults);
    EXPECT_EQ(arc_field_kind("Authentication-Results"), std::nullopt);
    EXPECT_EQ(arc_field_name(ArcFieldKind::kSeal), "ARC-Seal");
}

TEST(ArcSet, AuthResultsInstance) {
    auto r = parse_arc_authentication_results(" i=1; relay.example; spf=pass\r\n x=y");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->instance, 1u);
    EXPECT_EQ(r->payload, "relay.example; spf=pass\r\n x=y");
    r = parse_arc_authentication_results(" (first) I =\r\n 50 ;x");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->instance, 50u);
    EXPECT_EQ(r->payload, "x");
    for (std::string_view bad : {" i=0; x", " i=51; x", " i=1 x", " x=1; y", " i=; x", "", " i=1"})
        EXPECT_FALSE(parse_arc_authentication_results(bad)) << bad;
    EXPECT_EQ(parse_arc_authentication_results(" i=51; x").error(),
              "i= is not an instance from 1 to 50");
}

TEST(ArcSet, SignatureTags) {
    auto m =
        parse_dkim_signature(" i=3; " + kSig + "; h=From:To; bh=AAAA", SignatureField::kArcMessage);
    EXPECT_FALSE(m.problem) << m.problem->reason;
    EXPECT_EQ(m.signature.instance, 3u);
    EXPECT_EQ(m.signature.identity, "");
    EXPECT_EQ(m.signature.header_canon, Canon::kSimple);  // c= absent: RFC 6376's default
    m = parse_dkim_signature(" i=1; " + kSig + "; h=from:arc-seal; bh=AAAA",
                             SignatureField::kArcMessage);
    EXPECT_EQ(m.problem->reason, "h= names ARC-Seal (RFC 8617 section 4.1.2)");
    m = parse_dkim_signature(kSig + "; h=from; bh=AAAA", SignatureField::kArcMessage);
    EXPECT_EQ(m.problem->reason, "no i= tag");

    auto s = parse_dkim_signature(" i=2; cv=PASS; " + kSig, SignatureField::kArcSeal);
    EXPECT_FALSE(s.problem) << s.problem->reason;
    EXPECT_EQ(s.signature.chain_validation, "pass");
    EXPECT_EQ(s.signature.header_canon, Canon::kRelaxed);
    s = parse_dkim_signature(" i=2; cv=pass; h=from; " + kSig, SignatureField::kArcSeal);
    EXPECT_EQ(s.problem->reason, "an ARC-Seal may not have h=");
    s = parse_dkim_signature(" i=2; " + kSig, SignatureField::kArcSeal);
    EXPECT_EQ(s.problem->reason, "no cv= tag");
    s = parse_dkim_signature(" i=2; cv=maybe; " + kSig, SignatureField::kArcSeal);
    EXPECT_EQ(s.problem->reason, "cv=maybe is not none, pass or fail");
    s = parse_dkim_signature(" i=99; cv=pass; " + kSig, SignatureField::kArcSeal);
    EXPECT_EQ(s.problem->reason, "i=99 is not an instance from 1 to 50");
    // A DKIM-Signature still needs v=1 and reads i= as the AUID.
    EXPECT_EQ(
        parse_dkim_signature(" i=@relay.example; " + kSig + "; h=from; bh=AAAA").problem->reason,
        "no v= tag");
}

TEST(ArcSet, SoundChains) {
    EXPECT_TRUE(parse_arc_chain(std::vector<std::string>{kFrom}).empty());
    for (unsigned n : {1u, 2u, 50u}) {
        auto fields = chain_of(n);
        ArcChain chain = parse_arc_chain(fields);
        EXPECT_EQ(chain.problem, "") << n;
        EXPECT_EQ(chain.fields, 3 * n);
        EXPECT_EQ(chain.highest_instance, n);
        ASSERT_EQ(chain.sets.size(), n);
        EXPECT_EQ(chain.sets[0].results, "relay.example; spf=pass");
        EXPECT_EQ(fields[chain.sets[n - 1].seal_field], seal(n, n == 1 ? "none" : "pass"));
    }
}

TEST(ArcSet, StructuralReasons) {
    auto with = [](std::vector<std::string> fields) { return parse_arc_chain(fields).problem; };
    auto two = chain_of(2);
    auto extra = two;
    extra.insert(extra.begin(), seal(1, "none"));
    EXPECT_EQ(with(extra), "i=1: 2 ARC-Seal fields");
    EXPECT_EQ(parse_arc_chain(chain_of(3), 2).problem, "3 ARC sets, over the limit of 2");
    auto failed = two;
    failed[0] = seal(2, "fail");
    ArcChain chain = parse_arc_chain(failed);
    EXPECT_EQ(chain.problem, "the newest ARC-Seal (i=2) says cv=fail");
    EXPECT_TRUE(chain.newest_seal_failed);
    EXPECT_TRUE(chain.sets.empty());
    EXPECT_EQ(with({seal(2, "pass"), ams(2), aar(2), kFrom}),
              "ARC set i=1 is missing (instances run from 1)");
    auto no_instance = two;
    no_instance[1] = "ARC-Message-Signature: " + kSig + "; h=from; bh=AAAA\r\n";
    EXPECT_EQ(with(no_instance), "an ARC-Message-Signature field has no usable i=: no i= tag");
}

}  // namespace
}  // namespace tern::mailauth
