// ArcSealer: the sets it adds (to no chain, to dkimpy's chain, to a broken chain with cv=fail)
// verified by ArcVerifier and by dkimpy's arc_verify, what it writes, what it refuses, and
// output that does not depend on how the body is cut.
#include "mailauth/arc_sealer.h"

#include <gtest/gtest.h>

#include "arc_fixtures.h"
#include "mailauth/header_hash.h"

namespace tern::mailauth {
namespace {

using namespace testing;

const std::string kPlain =
    "Authentication-Results: relay3.example; spf=pass smtp.mailfrom=origin.example\r\n"
    "From: Joe <joe@origin.example>\r\n"
    "To: list@lists.example\r\n"
    "Subject: Dinner\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <dinner@origin.example>\r\n"
    "\r\n"
    "Is dinner ready?\r\n";

std::string replace(std::string text, std::string_view from, std::string_view to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

Zone zone_with_relay3(const PrivateKey& key) {
    Zone zone = arc_zone();
    zone["s3._domainkey.relay3.example"] = txt_answer({record_of(key)});
    return zone;
}

std::vector<std::pair<std::string, std::string>> dkimpy_records() {
    std::string record = record_of(*fixture_key());
    return {{"s1._domainkey.relay1.example", record},
            {"s2._domainkey.relay2.example", record},
            {"s3._domainkey.relay3.example", record}};
}

TEST(ArcSealer, FirstSetVerifiesHereAndInDkimpy) {
    std::string sealed = seal_arc(kPlain, relay3_key(), ChainStatus::kNone);
    ASSERT_FALSE(sealed.starts_with("error")) << sealed;
    auto v = verify_arc(sealed, zone_with_relay3(*fixture_key()));
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.instances, 1u);
    EXPECT_EQ(v.result.sets[0].results, "relay3.example; spf=pass smtp.mailfrom=origin.example");
    EXPECT_EQ(dkimpy_arc_verify(sealed, dkimpy_records()), "pass success");
    EXPECT_EQ(dkimpy_arc_verify(replace(sealed, "ready?", "ready!"), dkimpy_records()),
              "fail Most recent ARC-Message-Signature did not validate");
}

TEST(ArcSealer, ExtendsDkimpysChain) {
    std::string twice = arc_fixture("sealed_twice");
    auto before = verify_arc(twice, arc_zone());
    ASSERT_EQ(before.result.chain_status(), ChainStatus::kPass);
    std::string sealed = seal_arc(twice, relay3_key(), before.result.chain_status(), "arc=pass");
    ASSERT_FALSE(sealed.starts_with("error")) << sealed;
    EXPECT_TRUE(sealed.starts_with("ARC-Seal: i=3; a=rsa-sha256; t=1700000100; cv=pass;"))
        << sealed;
    auto v = verify_arc(sealed, zone_with_relay3(*fixture_key()));
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.instances, 3u);
    EXPECT_EQ(v.result.oldest_pass, 1u);
    EXPECT_EQ(dkimpy_arc_verify(sealed, dkimpy_records()), "pass success");
}

TEST(ArcSealer, BrokenChainIsSealedWithFailOverTheNewSetOnly) {
    std::string broken = replace(arc_fixture("sealed_twice"), "Joe.", "Jim.");
    auto before = verify_arc(broken, arc_zone());
    ASSERT_EQ(before.result.chain_status(), ChainStatus::kFail);
    std::string sealed = seal_arc(broken, relay3_key(), ChainStatus::kFail, "arc=fail");
    ASSERT_FALSE(sealed.starts_with("error")) << sealed;
    auto split = message::split_header(sealed);
    EXPECT_TRUE(split.fields[0].starts_with("ARC-Seal: i=3; a=rsa-sha256; t=1700000100; cv=fail;"));
    // RFC 8617 section 5.1.2: the seal signs the new set alone.
    HeaderHasher own(Canon::kRelaxed);
    own.add_field(split.fields[2]);  // the AAR
    own.add_field(split.fields[1]);  // the AMS
    own.add_signature_field(without_signature_value(split.fields[0]));
    auto parsed = parse_dkim_signature(field_value(split.fields[0]), SignatureField::kArcSeal);
    ASSERT_FALSE(parsed.problem) << parsed.problem->reason;
    EXPECT_TRUE(fixture_key()->public_key().verify(own.finish(), parsed.signature.signature));
    // A validator stops at the newest cv=fail, and so does dkimpy.
    auto v = verify_arc(sealed, zone_with_relay3(*fixture_key()));
    EXPECT_EQ(v.result.result, AuthResult::kFail);
    EXPECT_EQ(v.result.reason, "the newest ARC-Seal (i=3) says cv=fail");
    EXPECT_EQ(dkimpy_arc_verify(sealed, dkimpy_records()),
              "None ARC-Seal[3] reported failure, the chain is terminated");
}

TEST(ArcSealer, Ed25519Seals) {
    auto key = shared_key(PrivateKey::generate(KeyType::kEd25519));
    std::string once = seal_arc(kPlain, relay3_key(key), ChainStatus::kNone);
    std::string sealed = seal_arc("Authentication-Results: relay3.example; arc=pass\r\n" + once,
                                  relay3_key(key), ChainStatus::kPass, "arc=pass");
    ASSERT_FALSE(sealed.starts_with("error")) << sealed;
    EXPECT_TRUE(sealed.starts_with("ARC-Seal: i=2; a=ed25519-sha256;")) << sealed;
    auto v = verify_arc(sealed, zone_with_relay3(*key));
    EXPECT_EQ(v.result.result, AuthResult::kPass) << v.result.reason;
    EXPECT_EQ(v.result.instances, 2u);
    EXPECT_EQ(v.result.oldest_pass, 1u);
}

TEST(ArcSealer, WritesTheThreeFields) {
    std::string sealed = seal_arc(kPlain, relay3_key(), ChainStatus::kNone,
                                  "spf=pass smtp.mailfrom=origin.example; dkim=none; "
                                  "dmarc=pass (p=none) header.from=origin.example");
    auto split = message::split_header(sealed);
    ASSERT_GE(split.fields.size(), 3u);
    EXPECT_TRUE(split.fields[0].starts_with(
        "ARC-Seal: i=1; a=rsa-sha256; t=1700000100; cv=none; d=relay3.example; s=s3;"))
        << split.fields[0];
    EXPECT_TRUE(split.fields[1].starts_with(
        "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=relay3.example;"))
        << split.fields[1];
    EXPECT_EQ(split.fields[1].find("v=1"), std::string::npos);
    EXPECT_EQ(split.fields[1].find("ARC-Seal"), std::string::npos);
    EXPECT_EQ(split.fields[2],
              "ARC-Authentication-Results: i=1; relay3.example; spf=pass\r\n"
              " smtp.mailfrom=origin.example; dkim=none; dmarc=pass (p=none)\r\n"
              " header.from=origin.example\r\n");
    for (std::size_t i = 0; i < 3; ++i) {
        std::string_view field = split.fields[i];
        for (std::size_t pos = 0; pos < field.size();) {
            std::size_t end = field.find("\r\n", pos);
            EXPECT_LE(end - pos, 78u) << field;
            pos = end + 2;
        }
    }
    std::string empty = seal_arc(kPlain, relay3_key(), ChainStatus::kNone, "");
    EXPECT_NE(empty.find("ARC-Authentication-Results: i=1; relay3.example; none\r\n"),
              std::string::npos);
}

TEST(ArcSealer, Refusals) {
    std::string failed = seal_arc(arc_fixture("sealed_once"), relay3_key(), ChainStatus::kFail);
    EXPECT_EQ(seal_arc(failed, relay3_key(), ChainStatus::kFail),
              "error: the newest ARC-Seal already says cv=fail: nothing to add (RFC 8617 5.1)");
    EXPECT_EQ(seal_arc(kPlain, relay3_key(), ChainStatus::kPass),
              "error: cv=pass, but the message has no sound ARC chain");
    EXPECT_EQ(seal_arc(arc_fixture("sealed_once"), relay3_key(), ChainStatus::kNone),
              "error: cv=none, but the message has ARC fields");
    std::string fifty = "ARC-Seal: i=50; cv=pass; a=rsa-sha256; d=x.example; s=s; b=AAAA\r\n";
    EXPECT_EQ(seal_arc(fifty + kPlain, relay3_key(), ChainStatus::kFail),
              "error: the chain already has 50 ARC sets");
    EXPECT_EQ(seal_arc(kPlain, relay3_key(), ChainStatus::kNone, "spf=pass\r\nX-Evil: 1"),
              "error: the results hold a line break or a control character");
    std::string no_from = replace(kPlain, "From: Joe <joe@origin.example>\r\n", "");
    EXPECT_EQ(seal_arc(no_from, relay3_key(), ChainStatus::kNone),
              "error: the message has no From field to sign");

    ArcSealer sealer({}, relay3_key(), kArcNow);
    sealer.header("From: a@b.example\r\n");
    sealer.end_body();
    EXPECT_FALSE(sealer.seal(ChainStatus::kNone, "bad id", "spf=pass"));
    EXPECT_FALSE(sealer.seal(ChainStatus::kNone, "", "spf=pass"));
}

TEST(ArcSealer, OutputDoesNotDependOnChunking) {
    std::string twice = arc_fixture("sealed_twice_list");
    std::string whole = seal_arc(twice, relay3_key(), ChainStatus::kPass);
    for (std::size_t chunk = 1; chunk < 40; ++chunk)
        EXPECT_EQ(seal_arc(twice, relay3_key(), ChainStatus::kPass, "spf=pass", kArcNow, chunk),
                  seal_arc(twice, relay3_key(), ChainStatus::kPass, "spf=pass", kArcNow, 0))
            << chunk;
    EXPECT_FALSE(whole.starts_with("error")) << whole;
}

}  // namespace
}  // namespace tern::mailauth
