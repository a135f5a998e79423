// DKIM-Signature parsing and validation, RFC 6376 sections 3.5 and 6.1.1.
#include "mailauth/dkim_signature.h"

#include <gtest/gtest.h>

#include "base/text.h"

namespace tern::mailauth {
namespace {

const std::string kGood = "v=1; a=rsa-sha256; d=Example.COM; s=Sel; h=From:To; bh=AAAA; b=AAAA";

std::string with(std::string_view extra) {
    return kGood + "; " + std::string(extra);
}

std::string problem(std::string_view value) {
    auto parsed = parse_dkim_signature(value);
    return parsed.problem ? parsed.problem->reason : "";
}

TEST(DkimSignature, Rfc6376AppendixA) {
    auto parsed = parse_dkim_signature(
        " v=1; a=rsa-sha256; s=brisbane; d=example.com;\r\n"
        "      c=simple/simple; q=dns/txt; i=joe@football.example.com;\r\n"
        "      h=Received : From : To : Subject : Date : Message-ID;\r\n"
        "      bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
        "      b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\r\n"
        "        4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut\r\n"
        "        KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV\r\n"
        "        4bmp/YzhwvcubU4=;");
    // i= is in football.example.com, a subdomain of d=example.com: allowed.
    ASSERT_FALSE(parsed.problem) << parsed.problem->reason;
    const DkimSignature& s = parsed.signature;
    EXPECT_EQ(s.algorithm, Algorithm::kRsaSha256);
    EXPECT_EQ(s.domain, "example.com");
    EXPECT_EQ(s.selector, "brisbane");
    EXPECT_EQ(s.identity, "joe@football.example.com");
    EXPECT_EQ(s.signed_fields, (std::vector<std::string>{"Received", "From", "To", "Subject",
                                                         "Date", "Message-ID"}));
    EXPECT_EQ(s.body_hash.size(), 32u);
    EXPECT_EQ(s.signature.size(), 128u);
    EXPECT_EQ(s.key_name(), "brisbane._domainkey.example.com");
    EXPECT_TRUE(
        s.signature_text.starts_with("AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB4nujc7"));
}

TEST(DkimSignature, Defaults) {
    auto parsed = parse_dkim_signature(kGood);
    ASSERT_FALSE(parsed.problem) << parsed.problem->reason;
    const DkimSignature& s = parsed.signature;
    EXPECT_EQ(s.domain, "example.com");  // lower-cased
    EXPECT_EQ(s.selector, "sel");
    EXPECT_EQ(s.header_canon, Canon::kSimple);
    EXPECT_EQ(s.body_canon, Canon::kSimple);
    EXPECT_EQ(s.identity, "@example.com");
    EXPECT_FALSE(s.body_length);
    EXPECT_FALSE(s.timestamp);
    EXPECT_FALSE(s.expiration);
}

TEST(DkimSignature, OptionalTags) {
    auto parsed = parse_dkim_signature(
        with("c=Relaxed; l=120; t=100; x=200; q=dns/txt:other/x; i=a=40b@sub.example.com; "
             "z=From:x|To:y; unknown=whatever"));
    ASSERT_FALSE(parsed.problem) << parsed.problem->reason;
    const DkimSignature& s = parsed.signature;
    EXPECT_EQ(s.header_canon, Canon::kRelaxed);
    EXPECT_EQ(s.body_canon, Canon::kSimple);  // c=relaxed alone is relaxed/simple
    EXPECT_EQ(s.body_length, 120u);
    EXPECT_EQ(s.timestamp, 100);
    EXPECT_EQ(s.expiration, 200);
    EXPECT_EQ(s.identity, "a@b@sub.example.com");
    EXPECT_EQ(problem(with("a=rsa-sha256")), "tag a is repeated");
    // ABNF strings are case-insensitive: algorithm and canonicalisation words too.
    auto upper = parse_dkim_signature(
        "v=1; a=ED25519-SHA256; c=RELAXED/Simple; d=x.example; s=s; h=from; bh=AAAA; b=AAAA");
    ASSERT_FALSE(upper.problem) << upper.problem->reason;
    EXPECT_EQ(upper.signature.algorithm, Algorithm::kEd25519Sha256);
    EXPECT_EQ(upper.signature.header_canon, Canon::kRelaxed);
}

TEST(DkimSignature, RequiredTags) {
    for (std::string_view tag : {"v", "a", "b", "bh", "d", "h", "s"}) {
        std::string value;
        for (std::string_view part :
             {"v=1", "a=rsa-sha256", "d=example.com", "s=sel", "h=From", "bh=AAAA", "b=AAAA"})
            if (!part.starts_with(std::string(tag) + "=")) value += std::string(part) + ";";
        EXPECT_EQ(problem(value), "no " + std::string(tag) + "= tag");
    }
}

TEST(DkimSignature, Problems) {
    EXPECT_EQ(problem("v=2; a=rsa-sha256; d=example.com; s=s; h=From; bh=AAAA; b=AAAA"),
              "v=2 is not version 1");
    auto sha1 =
        parse_dkim_signature("v=1; a=rsa-sha1; d=example.com; s=s; h=From; bh=AAAA; b=AAAA");
    ASSERT_TRUE(sha1.problem);
    EXPECT_EQ(sha1.problem->result, AuthResult::kFail);
    EXPECT_EQ(sha1.problem->reason, "rsa-sha1 is refused (RFC 8301)");
    EXPECT_EQ(sha1.signature.domain, "example.com");  // still reported
    EXPECT_EQ(problem("v=1; a=dsa-sha256; d=example.com; s=s; h=From; bh=AAAA; b=AAAA"),
              "a=dsa-sha256 is not a known algorithm");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=example.com; s=s; h=To:Subject; bh=AAAA; b=AAAA"),
              "h= does not include From");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=exa mple.com; s=s; h=From; bh=AAAA; b=AAAA"),
              "d= is not a domain name");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=example.com; s=a..b; h=From; bh=AAAA; b=AAAA"),
              "s= is not a selector");
    EXPECT_EQ(problem(with("c=simple/strict")), "c=simple/strict is not known");
    EXPECT_EQ(problem(with("i=joe@example.org")), "i= is not in the domain of d=");
    EXPECT_EQ(problem(with("i=joe@badexample.com")), "i= is not in the domain of d=");
    EXPECT_EQ(problem(with("i=joe")), "i= has no '@'");
    EXPECT_EQ(problem(with("l=12x")), "l= is not a number of at most 76 digits");
    EXPECT_EQ(problem(with("l=" + std::string(77, '1'))),
              "l= is not a number of at most 76 digits");
    EXPECT_EQ(problem(with("q=http/well-known")), "q= does not offer dns/txt");
    EXPECT_EQ(problem(with("t=1234567890123")), "t= is not a number of at most 12 digits");
    EXPECT_EQ(problem(with("t=200; x=200")), "x= is not after t=");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=example.com; s=s; h=From; bh=A!AA; b=AAAA"),
              "bh= is not base64");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=example.com; s=s; h=From; bh=AAAA; b=AAA"),
              "b= is not base64");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=example.com; s=s; h=From; bh=AAAA; b="), "b= is empty");
    EXPECT_EQ(problem("v=1; a=rsa-sha256; d=example.com; s=s; h=From:; bh=AAAA; b=AAAA"),
              "h= holds a name that is not a field name");
    EXPECT_EQ(problem("v=1; v=1"), "tag v is repeated");
    EXPECT_EQ(parse_dkim_signature("garbage").problem->result, AuthResult::kNeutral);
}

TEST(DkimSignature, HugeLengthSaturates) {
    auto parsed = parse_dkim_signature(with("l=" + std::string(76, '9')));
    ASSERT_FALSE(parsed.problem);
    EXPECT_EQ(parsed.signature.body_length, UINT64_MAX);
}

TEST(DkimSignature, DnsNames) {
    EXPECT_TRUE(is_dns_name("a.b-c.d_e"));
    EXPECT_TRUE(is_dns_name(std::string(63, 'a') + ".com"));
    EXPECT_FALSE(is_dns_name(std::string(64, 'a') + ".com"));
    EXPECT_FALSE(is_dns_name(""));
    EXPECT_FALSE(is_dns_name("a."));
    EXPECT_FALSE(is_dns_name(".a"));
    EXPECT_FALSE(is_dns_name("a/b"));
    EXPECT_FALSE(is_dns_name("\xc3\xa9t\xc3\xa9.example"));
}

}  // namespace
}  // namespace tern::mailauth
