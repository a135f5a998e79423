// Tests of the SRS codec against addresses that Mail::SRS 0.31 (libmail-srs-perl) and python3-srs
// 1.0.4 made with the same secrets at the same time (tests/integration/test_srs.py checks live).
#include "delivery/srs.h"

#include <gtest/gtest.h>

namespace tern::delivery {
namespace {

// 2025-12-01 01:00 UTC: day 20423, timestamp "6H". The vectors below were printed by
// perl -MMail::SRS with Secret => ['tern-test-secret', 'old-secret'] and CORE::GLOBAL::time
// fixed to this instant, and agree with python3-srs's SRS.new(...) at the same time.
constexpr std::int64_t kNow = 1764547200 + 3600;
constexpr std::int64_t kDay = 86400;

SrsCodec codec(char separator = '=',
               std::vector<std::string> secrets = {"tern-test-secret", "old-secret"}) {
    SrsOptions o;
    o.secrets = std::move(secrets);
    o.separator = separator;
    return SrsCodec(o);
}

TEST(Srs, TimestampIsTheDayInBase32) {
    EXPECT_EQ(SrsCodec::timestamp(kNow), "6H");
    EXPECT_EQ(SrsCodec::timestamp(0), "AA");
    EXPECT_EQ(SrsCodec::timestamp(1024 * kDay), "AA");  // days mod 1024
}

TEST(Srs, ForwardMatchesMailSrs) {
    auto c = codec();
    EXPECT_EQ(c.forward("alice@example.org", "fwd.example.net", kNow).value(),
              "SRS0=7jb2=6H=example.org=alice@fwd.example.net");
    EXPECT_EQ(c.forward("Bob.Smith=x@Sub.Example.ORG", "fwd.example.net", kNow).value(),
              "SRS0=TewU=6H=Sub.Example.ORG=Bob.Smith=x@fwd.example.net");
}

TEST(Srs, ForwardingAnSrs0AddressMakesSrs1AndAnSrs1KeepsItsFirstForwarder) {
    auto c = codec();
    std::string srs0 = "SRS0=7jb2=6H=example.org=alice@fwd.example.net";
    std::string srs1 = "SRS1=bHlr=fwd.example.net==7jb2=6H=example.org=alice@second.example.com";
    EXPECT_EQ(c.forward(srs0, "second.example.com", kNow).value(), srs1);
    EXPECT_EQ(c.forward(srs1, "third.example.com", kNow).value(),
              "SRS1=bHlr=fwd.example.net==7jb2=6H=example.org=alice@third.example.com");
}

TEST(Srs, PlusSeparatorMatchesMailSrs) {
    auto c = codec('+');
    std::string srs0 = "SRS0+7jb2=6H=example.org=alice@fwd.example.net";
    EXPECT_EQ(c.forward("alice@example.org", "fwd.example.net", kNow).value(), srs0);
    std::string srs1 = "SRS1+tMlO=fwd.example.net=+7jb2=6H=example.org=alice@second.example.com";
    EXPECT_EQ(c.forward(srs0, "second.example.com", kNow).value(), srs1);
    EXPECT_EQ(c.reverse(srs1, kNow).value(), srs0);
    EXPECT_EQ(c.reverse(srs0, kNow).value(), "alice@example.org");
}

TEST(Srs, SenderAtTheForwarderIsKept) {
    EXPECT_EQ(codec().forward("alice@FWD.example.net", "fwd.example.net", kNow).value(),
              "alice@FWD.example.net");
}

TEST(Srs, ReverseMatchesMailSrs) {
    auto c = codec();
    EXPECT_EQ(c.reverse("SRS0=7jb2=6H=example.org=alice@fwd.example.net", kNow).value(),
              "alice@example.org");
    EXPECT_EQ(
        c.reverse("SRS1=bHlr=fwd.example.net==7jb2=6H=example.org=alice@second.example.com", kNow)
            .value(),
        "SRS0=7jb2=6H=example.org=alice@fwd.example.net");
    // A local part with '=' in it survives.
    EXPECT_EQ(c.reverse("SRS0=TewU=6H=Sub.Example.ORG=Bob.Smith=x@fwd.example.net", kNow).value(),
              "Bob.Smith=x@Sub.Example.ORG");
}

TEST(Srs, ReverseIgnoresCaseAsAddressesGetLowerCased) {
    auto c = codec();
    EXPECT_EQ(c.reverse("srs0=7JB2=6h=EXAMPLE.ORG=alice@fwd.example.net", kNow).value(),
              "alice@EXAMPLE.ORG");
    EXPECT_EQ(c.reverse("srs0=7jb2=6h=example.org=alice@fwd.example.net", kNow).value(),
              "alice@example.org");
    // The other separators after the tag are accepted on the way back.
    EXPECT_EQ(c.reverse("SRS0-7jb2=6H=example.org=alice@fwd.example.net", kNow).value(),
              "alice@example.org");
}

TEST(Srs, EverySecretVerifiesTheFirstSigns) {
    // Made by Mail::SRS with the secret 'old-secret' alone.
    std::string old = "SRS0=nXNE=6H=example.org=carol@fwd.example.net";
    EXPECT_EQ(codec().reverse(old, kNow).value(), "carol@example.org");
    EXPECT_EQ(codec('=', {"tern-test-secret"}).reverse(old, kNow).error(), SrsError::kBadHash);
    EXPECT_EQ(codec('=', {"old-secret"}).forward("carol@example.org", "fwd.example.net", kNow),
              old);
}

TEST(Srs, ForgedOrTamperedAddressesAreRefused) {
    auto c = codec();
    EXPECT_EQ(c.reverse("SRS0=AAAA=6H=example.org=alice@fwd.example.net", kNow).error(),
              SrsError::kBadHash);
    EXPECT_EQ(c.reverse("SRS0=7jb2=6H=example.org=mallory@fwd.example.net", kNow).error(),
              SrsError::kBadHash);
    EXPECT_EQ(c.reverse("SRS0=7jb=6H=example.org=alice@fwd.example.net", kNow).error(),
              SrsError::kBadHash);  // shorter than hash_length
    EXPECT_EQ(
        c.reverse("SRS1=AAAA=fwd.example.net==7jb2=6H=example.org=alice@x.example", kNow).error(),
        SrsError::kBadHash);
}

TEST(Srs, ExpiryAfterMaxAgeDays) {
    auto c = codec();
    std::string a = "SRS0=7jb2=6H=example.org=alice@fwd.example.net";
    EXPECT_TRUE(c.reverse(a, kNow + 21 * kDay));
    EXPECT_EQ(c.reverse(a, kNow + 22 * kDay).error(), SrsError::kExpired);
    EXPECT_EQ(c.reverse(a, kNow - kDay).error(), SrsError::kExpired);  // from the future
    EXPECT_TRUE(c.reverse(a, kNow + 1024 * kDay));                     // the counter wrapped
    EXPECT_TRUE(c.reverse(a, std::nullopt));                           // age not asked
    // The timestamp is signed: a fresh one does not revive the address.
    EXPECT_EQ(c.reverse("SRS0=7jb2=6I=example.org=alice@fwd.example.net", kNow + kDay).error(),
              SrsError::kBadHash);
}

TEST(Srs, ReversedAfterADayBoundaryAndAcrossTheWrap) {
    auto c = codec();
    // Day 1023 -> timestamp "77"; checked on day 1024+3 (slot 3).
    auto made = c.forward("a@b.example", "f.example", 1023 * kDay + 5);
    ASSERT_TRUE(made);
    EXPECT_NE(made->find("=77="), std::string::npos);
    EXPECT_TRUE(c.reverse(*made, 1027 * kDay));
}

TEST(Srs, MalformedInput) {
    auto c = codec();
    EXPECT_EQ(c.reverse("alice@example.org", kNow).error(), SrsError::kNotSrs);
    EXPECT_EQ(c.reverse("SRS0=7jb2=6H=example.org", kNow).error(), SrsError::kNotSrs);
    EXPECT_EQ(c.reverse("SRS2=7jb2=6H=example.org=a@f.example", kNow).error(), SrsError::kNotSrs);
    EXPECT_EQ(c.reverse("SRS0=7jb2=6H=example.org@f.example", kNow).error(), SrsError::kMalformed);
    EXPECT_EQ(c.reverse("SRS0=7jb2=6H==alice@f.example", kNow).error(), SrsError::kMalformed);
    EXPECT_EQ(c.reverse("SRS1=abcd=host@f.example", kNow).error(), SrsError::kMalformed);
    EXPECT_EQ(c.reverse("SRS0=@f.example", kNow).error(), SrsError::kMalformed);
    EXPECT_EQ(c.forward("no-at-sign", "f.example", kNow).error(), SrsError::kMalformed);
    EXPECT_EQ(c.forward("@example.org", "f.example", kNow).error(), SrsError::kMalformed);
    EXPECT_TRUE(is_srs_local_part("srs1+x"));
    EXPECT_FALSE(is_srs_local_part("srs0"));
    EXPECT_FALSE(is_srs_local_part("srs0.x"));
}

TEST(Srs, LongerHashesAreAcceptedAsPrefixes) {
    SrsOptions o;
    o.secrets = {"tern-test-secret"};
    o.hash_length = 8;
    SrsCodec c(o);
    auto made = c.forward("alice@example.org", "fwd.example.net", kNow);
    ASSERT_TRUE(made);
    EXPECT_TRUE(made->starts_with("SRS0=7jb2"));
    EXPECT_EQ(made->find('='), 4u);
    EXPECT_EQ(made->find('=', 5), 13u);  // 8 characters of hash
    EXPECT_EQ(c.reverse(*made, kNow).value(), "alice@example.org");
    // A 4-character hash is too short for hash_length 8.
    EXPECT_EQ(c.reverse("SRS0=7jb2=6H=example.org=alice@fwd.example.net", kNow).error(),
              SrsError::kBadHash);
}

}  // namespace
}  // namespace tern::delivery
