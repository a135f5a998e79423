// ArcVerifier: chains sealed once and twice by dkimpy pass, a mailing list's changes move the
// oldest pass, tampering and broken structure fail with their reason, lookups stop at the first
// failing seal, the limits, and results that do not depend on how the body is cut.
#include "mailauth/arc_verifier.h"

#include <gtest/gtest.h>

#include "arc_fixtures.h"

namespace tern::mailauth {
namespace {

using namespace testing;

std::string replace(std::string text, std::string_view from, std::string_view to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

const std::string kRelay1 = "s1._domainkey.relay1.example";
const std::string kRelay2 = "s2._domainkey.relay2.example";

TEST(ArcVerifier, SealedOnceByDkimpyPasses) {
    auto v = verify_arc(arc_fixture("sealed_once"), arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.chain_status(), ChainStatus::kPass);
    EXPECT_EQ(v.result.instances, 1u);
    EXPECT_EQ(v.result.oldest_pass, 1u);
    ASSERT_EQ(v.result.sets.size(), 1u);
    const ArcSetResult& set = v.result.sets[0];
    EXPECT_EQ(set.seal_domain, "relay1.example");
    EXPECT_EQ(set.seal_selector, "s1");
    EXPECT_EQ(set.signature_domain, "relay1.example");
    EXPECT_EQ(set.results, "relay1.example; spf=pass smtp.mailfrom=origin.example");
    EXPECT_EQ(set.seal, AuthResult::kPass);
    EXPECT_EQ(set.signature, AuthResult::kPass);
    EXPECT_EQ(v.queries, std::vector<std::string>{kRelay1});  // the AS and AMS share the key
}

TEST(ArcVerifier, SealedTwiceByDkimpyPasses) {
    auto v = verify_arc(arc_fixture("sealed_twice"), arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.instances, 2u);
    EXPECT_EQ(v.result.oldest_pass, 1u);
    ASSERT_EQ(v.result.sets.size(), 2u);
    EXPECT_EQ(v.result.sets[1].seal_domain, "relay2.example");
    EXPECT_EQ(v.result.sets[1].results, "relay2.example; arc=pass smtp.remote-ip=192.0.2.1");
    EXPECT_EQ(v.queries, (std::vector<std::string>{kRelay2, kRelay1}));  // newest seal first
}

TEST(ArcVerifier, ListChangesBreakTheOldSignatureNotTheChain) {
    auto v = verify_arc(arc_fixture("sealed_twice_list"), arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.oldest_pass, 2u);
    EXPECT_EQ(v.result.sets[0].seal, AuthResult::kPass);
    EXPECT_EQ(v.result.sets[0].signature, AuthResult::kFail);
    EXPECT_EQ(v.result.sets[0].reason, "ARC-Message-Signature: body hash mismatch");
    EXPECT_EQ(v.result.sets[1].signature, AuthResult::kPass);
}

TEST(ArcVerifier, NoChainIsNone) {
    std::string plain = "From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n";
    auto v = verify_arc(plain, arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kNone);
    EXPECT_EQ(v.result.chain_status(), ChainStatus::kNone);
    EXPECT_TRUE(v.queries.empty());
}

TEST(ArcVerifier, ChangedBodyFailsTheNewestSignature) {
    auto v = verify_arc(replace(arc_fixture("sealed_twice"), "Joe.", "Jim."), arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.chain_status(), ChainStatus::kFail);
    EXPECT_FALSE(v.result.temporary);
    EXPECT_EQ(v.result.reason, "the newest ARC-Message-Signature (i=2) fails: body hash mismatch");
    EXPECT_EQ(v.result.oldest_pass, 0u);
}

TEST(ArcVerifier, ChangedHeaderFailsTheNewestSignature) {
    auto v = verify_arc(replace(arc_fixture("sealed_twice"), "Subject: Dinner", "Subject: Lunch"),
                        arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason, "the newest ARC-Message-Signature (i=2) fails: signature mismatch");
}

TEST(ArcVerifier, ChangedSetFailsTheSealsAndStopsTheLookups) {
    // The AAR of i=1 is under both seals; the newest is checked first and no more keys asked.
    auto v = verify_arc(replace(arc_fixture("sealed_twice"), "i=1; relay1.example; spf=pass",
                                "i=1; relay1.example; spf=fail"),
                        arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason, "the ARC-Seal i=2 fails: signature mismatch");
    EXPECT_EQ(v.queries, std::vector<std::string>{kRelay2});
}

TEST(ArcVerifier, ChangedOlderSealFails) {
    auto m = replace(arc_fixture("sealed_twice"), "t=1700000000;\r\n b=ZIQh",
                     "t=1700000001;\r\n b=ZIQh");
    auto v = verify_arc(m, arc_zone());
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason, "the ARC-Seal i=2 fails: signature mismatch");
}

TEST(ArcVerifier, BrokenStructureFailsWithoutLookups) {
    std::string twice = arc_fixture("sealed_twice");
    struct Case {
        std::string message;
        std::string reason;
    };
    std::vector<Case> cases = {
        {replace(twice, "ARC-Authentication-Results: i=1;", "X-Old-AAR: i=1;"),
         "i=1: no ARC-Authentication-Results field"},
        {replace(twice, "ARC-Seal: i=1; cv=none", "ARC-Seal: i=1; cv=pass"),
         "i=1: the ARC-Seal says cv=pass, not none"},
        {replace(twice, "ARC-Seal: i=2; cv=pass", "ARC-Seal: i=2; cv=none"),
         "i=2: the ARC-Seal says cv=none, not pass"},
        {replace(twice, "ARC-Seal: i=2; cv=pass", "ARC-Seal: i=2; cv=fail"),
         "the newest ARC-Seal (i=2) says cv=fail"},
        {replace(twice, "ARC-Message-Signature: i=1;", "ARC-Message-Signature: i=2;"),
         "i=1: no ARC-Message-Signature field"},
        {"ARC-Seal: i=3; cv=pass; a=rsa-sha256; d=x.example; s=s; b=AAAA\r\n" + twice,
         "i=3: no ARC-Authentication-Results field"},
        {replace(twice, "ARC-Seal: i=2; cv=pass", "ARC-Seal: i=52; cv=pass"),
         "an ARC-Seal field has no usable i=: i=52 is not an instance from 1 to 50"},
        {replace(twice, "ARC-Authentication-Results: i=2;", "ARC-Authentication-Results: 2;"),
         "an ARC-Authentication-Results field does not start with i="},
    };
    for (const Case& c : cases) {
        auto v = verify_arc(c.message, arc_zone());
        EXPECT_EQ(v.result.result, AuthResult::kFail) << c.reason;
        EXPECT_EQ(v.result.reason, c.reason);
        EXPECT_TRUE(v.queries.empty()) << c.reason;
    }
}

TEST(ArcVerifier, ChainsWithAGapFail) {
    // Only set 2 of the two: instances must run from 1.
    std::string twice = arc_fixture("sealed_twice");
    auto split = message::split_header(twice);
    std::string m;
    for (const std::string& f : split.fields)
        if (f.find("i=1;") == std::string::npos) m += f;
    m += "\r\n" + std::string(split.body);
    auto v = verify_arc(m, arc_zone());
    EXPECT_EQ(v.result.reason, "ARC set i=1 is missing (instances run from 1)");
}

TEST(ArcVerifier, KeyProblems) {
    Zone none;
    auto v = verify_arc(arc_fixture("sealed_once"), none);
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_FALSE(v.result.temporary);
    // RFC 8617 section 5.2 checks the newest AMS before the seals; they share the key here.
    EXPECT_EQ(v.result.reason,
              "the newest ARC-Message-Signature (i=1) fails: no key record at " + kRelay1);

    Zone timeout{{kRelay1, status_answer(dns::Answer::Status::kTempFail)}};
    v = verify_arc(arc_fixture("sealed_once"), timeout);
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_TRUE(v.result.temporary);
    EXPECT_EQ(v.result.chain_status(), ChainStatus::kFail);
    EXPECT_EQ(v.result.reason, "the newest ARC-Message-Signature (i=1) fails: key lookup for " +
                                   kRelay1 + " failed: test");

    Zone revoked{{kRelay1, txt_answer({"v=DKIM1; k=rsa; p="})}};
    v = verify_arc(arc_fixture("sealed_once"), revoked);
    EXPECT_EQ(v.result.reason, "the newest ARC-Message-Signature (i=1) fails: key revoked");
    EXPECT_EQ(v.result.sets[0].seal, AuthResult::kFail);
}

TEST(ArcVerifier, LookupsNeverFedAreTemporary) {
    const std::string text = arc_fixture("sealed_once");  // split's views point into it
    auto split = message::split_header(text);
    ArcVerifier verifier({}, kArcNow);
    for (const std::string& f : split.fields)
        verifier.header(f);
    verifier.body(split.body);
    verifier.end_body();
    const ArcResult& r = verifier.result();
    EXPECT_EQ(r.result, AuthResult::kFail);
    EXPECT_TRUE(r.temporary);
    EXPECT_EQ(r.reason, "the ARC-Seal i=1 fails: the key was not looked up");
}

TEST(ArcVerifier, SignaturesFromTheFutureFail) {
    auto v = verify_arc(arc_fixture("sealed_once"), arc_zone(), {}, 0, 1600000000);
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason,
              "the newest ARC-Message-Signature (i=1) fails: signature made in the future "
              "(t=1700000000)");
    EXPECT_TRUE(v.queries.empty());
}

TEST(ArcVerifier, Limits) {
    ArcVerifyOptions one;
    one.max_instances = 1;
    auto v = verify_arc(arc_fixture("sealed_twice"), arc_zone(), one);
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason, "2 ARC sets, over the limit of 1");
    EXPECT_TRUE(v.queries.empty());

    ArcVerifyOptions small;
    small.max_header_bytes = 500;
    v = verify_arc(arc_fixture("sealed_twice"), arc_zone(), small);
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason, "not checked: the header is over 500 octets");
    // Over the limit after the ARC fields: still not checked (the AMS may sign what follows).
    std::string big = arc_fixture("sealed_once");
    big = replace(big, "From: Joe", "X-Big: " + std::string(600, 'x') + "\r\nFrom: Joe");
    small.max_header_bytes = 1500;
    EXPECT_EQ(verify_arc(big, arc_zone(), small).result.reason,
              "not checked: the header is over 1500 octets");
    small.max_header_bytes = 500;
    // A large header with no ARC field in it is simply no chain.
    std::string plain = "From: a@b.example\r\nX-Big: " + std::string(600, 'x') + "\r\n\r\nhi\r\n";
    EXPECT_EQ(verify_arc(plain, arc_zone(), small).result.result, AuthResult::kNone);

    ArcVerifyOptions newest_only;
    newest_only.find_oldest_pass = false;
    v = verify_arc(arc_fixture("sealed_twice_list"), arc_zone(), newest_only);
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.oldest_pass, 0u);
    EXPECT_EQ(v.result.sets[0].signature, AuthResult::kNone);  // not checked
}

TEST(ArcVerifier, HostileInputGivesAPreciseFailCheaply) {
    std::string once = arc_fixture("sealed_once");
    std::string seals;
    for (int i = 0; i < 1000; ++i)
        seals += "ARC-Seal: i=1; cv=none; a=rsa-sha256; d=x" + std::to_string(i) +
                 ".example; s=s; b=AAAA\r\n";
    auto v = verify_arc(seals + once, arc_zone());
    EXPECT_EQ(v.result.reason, "i=1: 1001 ARC-Seal fields");
    EXPECT_TRUE(v.queries.empty());

    std::string folded = "ARC-Seal: i=1; cv=none;";
    for (int i = 0; i < 100000; ++i)
        folded += "\r\n         ";
    v = verify_arc(folded + " a=rsa-sha256\r\n" + once, arc_zone());
    EXPECT_EQ(v.result.reason, "not checked: the header is over 1048576 octets");
    EXPECT_TRUE(v.queries.empty());

    // Fifty sets, each with its own key name: one lookup, the newest seal, which fails.
    std::string fifty;
    for (int i = 50; i >= 1; --i) {
        std::string n = std::to_string(i);
        fifty += "ARC-Seal: i=" + n + "; cv=" + (i == 1 ? "none" : "pass") +
                 "; a=rsa-sha256; d=relay1.example; s=k" + n + "; b=AAAA\r\n";
        fifty += "ARC-Message-Signature: i=" + n + "; a=rsa-sha256; d=relay1.example; s=k" + n +
                 "; h=from; bh=AAAA; b=AAAA\r\n";
        fifty += "ARC-Authentication-Results: i=" + n + "; relay1.example; none\r\n";
    }
    Zone zone{{"k50._domainkey.relay1.example", arc_zone().begin()->second}};
    v = verify_arc(fifty + "From: a@b.example\r\n\r\nhi\r\n", zone);
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.queries, std::vector<std::string>{"k50._domainkey.relay1.example"});
}

TEST(ArcVerifier, ResultsDoNotDependOnChunking) {
    std::vector<std::string> messages = {
        arc_fixture("sealed_once"), arc_fixture("sealed_twice"), arc_fixture("sealed_twice_list"),
        replace(arc_fixture("sealed_twice"), "Joe.", "Joe.  \r\n\r\n"),
        replace(arc_fixture("sealed_twice"), "Joe.", "Joe!")};
    for (const std::string& m : messages) {
        auto whole = verify_arc(m, arc_zone());
        for (std::size_t chunk = 1; chunk < 40; ++chunk) {
            auto v = verify_arc(m, arc_zone(), {}, chunk);
            EXPECT_EQ(v.result.result, whole.result.result) << chunk;
            EXPECT_EQ(v.result.reason, whole.result.reason) << chunk;
            EXPECT_EQ(v.result.oldest_pass, whole.result.oldest_pass) << chunk;
        }
    }
}

}  // namespace
}  // namespace tern::mailauth
