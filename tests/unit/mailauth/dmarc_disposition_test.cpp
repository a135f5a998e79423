// The local policy applied to DMARC results: reject with 550 5.7.1, quarantine as a header or a
// hold, t=y one level below, fail open or closed on DNS failures, and the ARC override for a
// trusted forwarder's sealed dmarc=pass.
#include "mailauth/dmarc_disposition.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

DmarcResult failing(DmarcPolicy policy, bool testing = false) {
    DmarcResult r;
    r.result = AuthResult::kFail;
    r.author_domain = "example.com";
    r.policy_domain = "example.com";
    r.record = parse_dmarc_record("v=DMARC1; p=reject");
    r.policy = policy;
    r.testing = testing;
    return r;
}

ArcEvidence sealed_pass(std::string sealer, std::string from = "example.com") {
    ArcEvidence arc{AuthResult::kPass, 1, std::move(sealer), {}};
    arc.results.push_back({"dmarc", "", "pass", "", "", {{"header", "from", std::move(from)}}});
    return arc;
}

TEST(DmarcDisposition, RejectIs550WithTheDomain) {
    DmarcDisposition d = decide_disposition(failing(DmarcPolicy::kReject), {});
    EXPECT_EQ(d.action, DmarcAction::kReject);
    ASSERT_TRUE(d.reply);
    EXPECT_EQ(d.reply->render(), "550 5.7.1 Email rejected per DMARC policy for example.com\r\n");
    EXPECT_EQ(d.override_reason, "");
}

TEST(DmarcDisposition, QuarantineTagsOrHolds) {
    DmarcDisposition tag = decide_disposition(failing(DmarcPolicy::kQuarantine), {});
    EXPECT_EQ(tag.action, DmarcAction::kTag);
    EXPECT_EQ(tag.header_field, "X-Tern-DMARC: fail policy=quarantine domain=example.com\r\n");
    EXPECT_FALSE(tag.reply);
    DmarcLocalPolicy hold;
    hold.on_quarantine = DmarcAction::kHold;
    EXPECT_EQ(decide_disposition(failing(DmarcPolicy::kQuarantine), hold).action,
              DmarcAction::kHold);
}

TEST(DmarcDisposition, PolicyNoneChangesNothing) {
    DmarcDisposition d = decide_disposition(failing(DmarcPolicy::kNone), {});
    EXPECT_EQ(d.action, DmarcAction::kAccept);
    EXPECT_EQ(d.override_reason, "");
}

TEST(DmarcDisposition, TestingAppliesOneLevelBelow) {
    DmarcDisposition reject = decide_disposition(failing(DmarcPolicy::kReject, true), {});
    EXPECT_EQ(reject.applied, DmarcPolicy::kQuarantine);
    EXPECT_EQ(reject.action, DmarcAction::kTag);
    EXPECT_EQ(reject.override_reason, "policy_test_mode");
    DmarcDisposition quarantine = decide_disposition(failing(DmarcPolicy::kQuarantine, true), {});
    EXPECT_EQ(quarantine.applied, DmarcPolicy::kNone);
    EXPECT_EQ(quarantine.action, DmarcAction::kAccept);
    DmarcLocalPolicy ignore_t;
    ignore_t.honor_testing = false;
    EXPECT_EQ(decide_disposition(failing(DmarcPolicy::kReject, true), ignore_t).action,
              DmarcAction::kReject);
}

TEST(DmarcDisposition, ALocalPolicyMilderThanTheOwnersIsReported) {
    DmarcLocalPolicy mild;
    mild.on_reject = DmarcAction::kTag;
    DmarcDisposition d = decide_disposition(failing(DmarcPolicy::kReject), mild);
    EXPECT_EQ(d.action, DmarcAction::kTag);
    EXPECT_EQ(d.override_reason, "local_policy");
}

TEST(DmarcDisposition, DnsFailuresFailOpenOrClosed) {
    DmarcResult temp;
    temp.result = AuthResult::kTempError;
    temp.author_domain = "example.com";
    EXPECT_EQ(decide_disposition(temp, {}).action, DmarcAction::kAccept);
    DmarcLocalPolicy closed;
    closed.on_temperror = DmarcAction::kDefer;
    DmarcDisposition d = decide_disposition(temp, closed);
    ASSERT_TRUE(d.reply);
    EXPECT_EQ(d.reply->render(),
              "451 4.4.3 DMARC policy for example.com could not be retrieved, try again later\r\n");
}

TEST(DmarcDisposition, PassAndNoneAreAccepted) {
    DmarcResult pass = failing(DmarcPolicy::kReject);
    pass.result = AuthResult::kPass;
    EXPECT_EQ(decide_disposition(pass, {}).action, DmarcAction::kAccept);
    DmarcResult none;
    EXPECT_EQ(decide_disposition(none, {}).action, DmarcAction::kAccept);
}

TEST(DmarcDisposition, TrustedArcSealerOverridesAFailure) {
    DmarcLocalPolicy local;
    local.trusted_arc_sealers = {"lists.example.org"};
    ArcEvidence arc = sealed_pass("Lists.Example.ORG");
    DmarcDisposition d = decide_disposition(failing(DmarcPolicy::kReject), local, &arc);
    EXPECT_EQ(d.action, DmarcAction::kAccept);
    EXPECT_EQ(d.override_reason, "trusted_forwarder");
    EXPECT_FALSE(d.reply);
}

TEST(DmarcDisposition, ArcThatCannotBeTrustedChangesNothing) {
    DmarcLocalPolicy local;
    local.trusted_arc_sealers = {"lists.example.org"};
    ArcEvidence untrusted = sealed_pass("other.example");
    ArcEvidence broken = sealed_pass("lists.example.org");
    broken.chain = AuthResult::kFail;
    ArcEvidence other_author = sealed_pass("lists.example.org", "example.net");
    ArcEvidence failed_there = sealed_pass("lists.example.org");
    failed_there.results[0].result = "fail";
    for (const ArcEvidence* arc : {&untrusted, &broken, &other_author, &failed_there}) {
        DmarcDisposition d = decide_disposition(failing(DmarcPolicy::kReject), local, arc);
        EXPECT_EQ(d.action, DmarcAction::kReject) << arc->sealer;
    }
}

TEST(DmarcDisposition, ActionNames) {
    EXPECT_EQ(action_name(DmarcAction::kAccept), "accept");
    EXPECT_EQ(action_name(DmarcAction::kTag), "tag");
    EXPECT_EQ(action_name(DmarcAction::kHold), "hold");
    EXPECT_EQ(action_name(DmarcAction::kReject), "reject");
    EXPECT_EQ(action_name(DmarcAction::kDefer), "defer");
}

}  // namespace
}  // namespace tern::mailauth
