// Tests of which deliveries get an SRS return path (docs/srs.md, "What is rewritten") and which
// RCPT addresses are SRS addresses of ours.
#include "delivery/srs_rewriter.h"

#include <gtest/gtest.h>

#include "base/text.h"

namespace tern::delivery {
namespace {

constexpr std::int64_t kNow = 1764547200 + 3600;  // timestamp "6H", as in srs_test.cpp

SrsRewriter rewriter(bool enabled = true, std::string domain = {}) {
    SrsRewriterOptions o;
    o.enabled = enabled;
    o.codec.secrets = {"tern-test-secret"};
    o.domain = std::move(domain);
    return SrsRewriter(
        o,
        [](std::string_view d) {
            return ascii_iequals(d, "fwd.example.net") || ascii_iequals(d, "localhost");
        },
        "fwd.example.net");
}

spool::Message message(std::string sender) {
    spool::Message m;
    m.sender = std::move(sender);
    return m;
}

spool::Recipient forwarded(std::string original = "team@fwd.example.net") {
    spool::Recipient r;
    r.address = "carol@dest.example";
    r.original = std::move(original);
    r.forwarded = true;
    return r;
}

TEST(SrsRewriter, ForwardedRecipientOfAForeignSenderGetsSrsAtTheAliasDomain) {
    EXPECT_EQ(rewriter().return_path(message("alice@example.org"), forwarded(), kNow),
              "SRS0=7jb2=6H=example.org=alice@fwd.example.net");
}

TEST(SrsRewriter, OtherDeliveriesKeepTheSender) {
    auto r = forwarded();
    auto srs = rewriter();
    EXPECT_EQ(srs.return_path(message(""), r, kNow), "");                            // a bounce
    EXPECT_EQ(srs.return_path(message("bob@localhost"), r, kNow), "bob@localhost");  // local
    EXPECT_EQ(rewriter(false).return_path(message("alice@example.org"), r, kNow),
              "alice@example.org");  // SRS off
    r.forwarded = false;
    EXPECT_EQ(srs.return_path(message("alice@example.org"), r, kNow), "alice@example.org");
}

TEST(SrsRewriter, TheConfiguredDomainWinsAndABarePostmasterUsesTheDefault) {
    auto srs = rewriter(true, "srs.example.com");
    auto made = srs.return_path(message("alice@example.org"), forwarded(), kNow);
    EXPECT_TRUE(made.ends_with("=example.org=alice@srs.example.com")) << made;
    // A sender at the SRS domain itself passes SPF as it is.
    EXPECT_EQ(srs.return_path(message("x@srs.example.com"), forwarded(), kNow),
              "x@srs.example.com");
    made = rewriter().return_path(message("alice@example.org"), forwarded("postmaster"), kNow);
    EXPECT_TRUE(made.ends_with("@fwd.example.net")) << made;
}

TEST(SrsRewriter, AQuotedLocalPartIsQuotedAgain) {
    auto made = rewriter().return_path(message("\"a b\"@example.org"), forwarded(), kNow);
    EXPECT_TRUE(made.starts_with("\"SRS0=")) << made;
    EXPECT_TRUE(made.ends_with("=example.org=a b\"@fwd.example.net")) << made;
}

TEST(SrsRewriter, SrsAddressesOfOursAreAtLocalDomainsOrTheSrsDomain) {
    EXPECT_TRUE(rewriter().is_ours("SRS0=x=y=z=w", "FWD.example.net"));
    EXPECT_FALSE(rewriter().is_ours("SRS0=x=y=z=w", "elsewhere.example"));
    EXPECT_TRUE(rewriter(true, "srs.example.com").is_ours("srs1+x", "SRS.example.com"));
    EXPECT_FALSE(rewriter().is_ours("alice", "fwd.example.net"));
    EXPECT_FALSE(rewriter(false).is_ours("SRS0=x=y=z=w", "fwd.example.net"));
}

}  // namespace
}  // namespace tern::delivery
