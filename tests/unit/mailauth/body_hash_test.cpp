// Body hashes: the known values of RFC 6376 and RFC 8463, l= limits, shared digests.
#include "mailauth/body_hash.h"

#include <gtest/gtest.h>

#include "base/base64.h"

namespace tern::mailauth {
namespace {

std::string b64(const std::string& digest) {
    return base64_encode(digest);
}

const std::string kRfcBody = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";

TEST(BodyHash, EmptyBodies) {
    BodyHasher h;
    auto simple = h.request(Canon::kSimple);
    auto relaxed = h.request(Canon::kRelaxed);
    h.finish();
    EXPECT_EQ(b64(h.digest(simple)), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    EXPECT_EQ(b64(h.digest(relaxed)), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    EXPECT_EQ(h.canonical_length(simple), 2u);
    EXPECT_EQ(h.canonical_length(relaxed), 0u);
}

// The body of RFC 6376 appendix A and RFC 8463 appendix A. Its "game.  Are" has two spaces, so
// the simple hash differs from the relaxed one of RFC 8463 (RFC 6376 prints the relaxed one
// with c=simple/simple; dkimpy's test data has this simple hash for this body).
TEST(BodyHash, RfcExampleBody) {
    for (std::size_t chunk : {1, 3, 7, 100}) {
        BodyHasher h;
        auto simple = h.request(Canon::kSimple);
        auto relaxed = h.request(Canon::kRelaxed);
        std::string text = kRfcBody + "\r\n\r\n";  // trailing empty lines do not count
        for (std::size_t i = 0; i < text.size(); i += chunk)
            h.feed(std::string_view(text).substr(i, chunk));
        h.finish();
        EXPECT_EQ(b64(h.digest(simple)), "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=");
        EXPECT_EQ(b64(h.digest(relaxed)), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
        EXPECT_EQ(h.raw_length(), text.size());
    }
}

TEST(BodyHash, SameRequestSameHandle) {
    BodyHasher h;
    EXPECT_EQ(h.request(Canon::kRelaxed), h.request(Canon::kRelaxed));
    EXPECT_EQ(h.request(Canon::kRelaxed, 5), h.request(Canon::kRelaxed, 5));
    EXPECT_NE(h.request(Canon::kRelaxed, 5), h.request(Canon::kRelaxed));
    EXPECT_NE(h.request(Canon::kSimple), h.request(Canon::kRelaxed));
}

TEST(BodyHash, LengthLimitCountsCanonicalOctets) {
    BodyHasher h;
    auto prefix = h.request(Canon::kRelaxed, 5);  // "Hi.\r\n"
    auto huge = h.request(Canon::kRelaxed, UINT64_MAX);
    auto zero = h.request(Canon::kRelaxed, 0);
    h.feed("Hi.  \r\n");
    h.feed("more text\r\n\r\n");
    h.finish();
    BodyHasher expect;
    auto e = expect.request(Canon::kRelaxed);
    expect.feed("Hi.\r\n");
    expect.finish();
    EXPECT_EQ(h.digest(prefix), expect.digest(e));
    EXPECT_EQ(h.canonical_length(prefix), 16u);  // "Hi.\r\nmore text\r\n"
    BodyHasher whole;
    auto w = whole.request(Canon::kRelaxed);
    whole.feed("Hi.\r\nmore text\r\n");
    whole.finish();
    EXPECT_EQ(h.digest(huge), whole.digest(w));
    BodyHasher none;
    auto n = none.request(Canon::kSimple, 0);
    none.finish();
    EXPECT_EQ(h.digest(zero), none.digest(n));
}

}  // namespace
}  // namespace tern::mailauth
