// Canonicalisation, RFC 6376 sections 3.4.1 to 3.4.6, and its independence of how the body is
// cut into chunks.
#include "mailauth/canonical.h"

#include <gtest/gtest.h>

#include <random>

namespace tern::mailauth {
namespace {

std::string body(std::string_view text, Canon canon, std::size_t chunk = 0) {
    BodyCanonicalizer c(canon);
    std::string out;
    if (chunk == 0) chunk = std::max<std::size_t>(1, text.size());
    for (std::size_t i = 0; i < text.size(); i += chunk)
        c.feed(text.substr(i, chunk), out);
    c.finish(out);
    return out;
}

TEST(Canonical, SimpleHeaderIsUnchanged) {
    std::string f = "SubJect : A  b\r\n\tc \r\n";
    EXPECT_EQ(canonical_header(f, Canon::kSimple), f);
}

TEST(Canonical, RelaxedHeader) {
    EXPECT_EQ(canonical_header("SubJect : A  b\r\n\tc \r\n", Canon::kRelaxed), "subject:A b c\r\n");
    EXPECT_EQ(canonical_header("To:\r\n x@y\r\n", Canon::kRelaxed), "to:x@y\r\n");
    EXPECT_EQ(canonical_header("X: a: b\r\n", Canon::kRelaxed), "x:a: b\r\n");
    EXPECT_EQ(canonical_header("X:\r\n", Canon::kRelaxed), "x:\r\n");
    EXPECT_EQ(canonical_header("X: \t \r\n", Canon::kRelaxed), "x:\r\n");
    EXPECT_EQ(canonical_header("X: v ", Canon::kRelaxed), "x:v");  // no CRLF given, none added
}

// RFC 6376 section 3.4.6, the example of both algorithms.
TEST(Canonical, RelaxedUnfoldsOnlyCrlfBeforeWsp) {
    // Found by fuzz_dkim_canonical: a CRLF not followed by WSP was dropped as if it were a fold,
    // so canonicalising the result again changed it ("a\r\r\n\nb" became "a\r\nb", then "ab").
    std::string once = canonical_header("X: a\r\r\n\nb\r\n", Canon::kRelaxed);
    EXPECT_EQ(once, "x:a\r\r\n\nb\r\n");
    EXPECT_EQ(canonical_header(once, Canon::kRelaxed), once);
    EXPECT_EQ(canonical_header("X: a\r\n\r\nb\r\n", Canon::kRelaxed), "x:a\r\n\r\nb\r\n");
    EXPECT_EQ(canonical_header("X: a\r\n\t \r\n b\r\n", Canon::kRelaxed), "x:a b\r\n");
    // Two line ends before WSP: removing the second alone would leave a fold for next time.
    once = canonical_header("X: a\r\n\r\n b\r\n", Canon::kRelaxed);
    EXPECT_EQ(once, "x:a b\r\n");
    EXPECT_EQ(canonical_header(once, Canon::kRelaxed), once);
}

TEST(Canonical, Rfc6376Example) {
    std::string header = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
    EXPECT_EQ(canonical_header("A: X\r\n", Canon::kRelaxed) +
                  canonical_header("B : Y\t\r\n\tZ  \r\n", Canon::kRelaxed),
              "a:X\r\nb:Y Z\r\n");
    std::string text = " C \r\nD \t E\r\n\r\n\r\n";
    EXPECT_EQ(body(text, Canon::kRelaxed), " C\r\nD E\r\n");
    EXPECT_EQ(body(text, Canon::kSimple), " C \r\nD \t E\r\n");
}

TEST(Canonical, EmptyBodies) {
    EXPECT_EQ(body("", Canon::kSimple), "\r\n");
    EXPECT_EQ(body("", Canon::kRelaxed), "");
    EXPECT_EQ(body("\r\n\r\n", Canon::kSimple), "\r\n");
    EXPECT_EQ(body("\r\n \t\r\n", Canon::kRelaxed), "");
    EXPECT_EQ(body("\r\n \t\r\n", Canon::kSimple), "\r\n \t\r\n");
}

TEST(Canonical, MissingFinalCrlfIsAdded) {
    EXPECT_EQ(body("abc", Canon::kSimple), "abc\r\n");
    EXPECT_EQ(body("abc", Canon::kRelaxed), "abc\r\n");
    EXPECT_EQ(body("abc  ", Canon::kRelaxed), "abc\r\n");
    EXPECT_EQ(body("abc\r", Canon::kSimple), "abc\r\r\n");  // a lone CR is text
    EXPECT_EQ(body("   ", Canon::kRelaxed), "");
}

TEST(Canonical, InnerEmptyLinesKept) {
    EXPECT_EQ(body("\r\n\r\na\r\n\r\nb\r\n\r\n", Canon::kSimple), "\r\n\r\na\r\n\r\nb\r\n");
    EXPECT_EQ(body(" \r\n\t\r\na\r\n", Canon::kRelaxed), "\r\n\r\na\r\n");
}

TEST(Canonical, RelaxedKeepsLeadingSpaceAsOne) {
    EXPECT_EQ(body("\t\tx  y\t\r\n", Canon::kRelaxed), " x y\r\n");
    EXPECT_EQ(body("x \r y\r\n", Canon::kRelaxed), "x \r y\r\n");
}

TEST(Canonical, BareLineFeedIsText) {
    EXPECT_EQ(body("a\nb\r\n", Canon::kSimple), "a\nb\r\n");
    EXPECT_EQ(body("a \n b\r\n", Canon::kRelaxed), "a \n b\r\n");
}

// Every cut of a tricky body gives the same canonical form as the whole.
TEST(Canonical, ChunkingDoesNotMatter) {
    std::string text = "  a \t b\r\n\r\n \r\nc\r\r\n\r\n\td \r\r\n\n\r\n \t\r\n\r\n";
    for (Canon canon : {Canon::kSimple, Canon::kRelaxed}) {
        std::string whole = body(text, canon);
        for (std::size_t chunk = 1; chunk <= text.size(); ++chunk)
            EXPECT_EQ(body(text, canon, chunk), whole) << canon_name(canon) << " " << chunk;
        for (std::size_t cut = 0; cut <= text.size(); ++cut) {
            BodyCanonicalizer c(canon);
            std::string out;
            c.feed(text.substr(0, cut), out);
            c.feed("", out);
            c.feed(text.substr(cut), out);
            c.finish(out);
            EXPECT_EQ(out, whole) << cut;
        }
    }
}

TEST(Canonical, RandomBodiesAnyChunking) {
    std::mt19937 rng(6376);
    const std::string alphabet = "ab \t\r\n";
    for (int round = 0; round < 500; ++round) {
        std::string text;
        std::size_t len = rng() % 40;
        for (std::size_t i = 0; i < len; ++i)
            text += alphabet[rng() % alphabet.size()];
        for (Canon canon : {Canon::kSimple, Canon::kRelaxed}) {
            std::string whole = body(text, canon);
            for (std::size_t chunk = 1; chunk <= 5; ++chunk)
                ASSERT_EQ(body(text, canon, chunk), whole);
        }
    }
}

TEST(Canonical, FieldNames) {
    EXPECT_EQ(field_name("Subject: x\r\n"), "Subject");
    EXPECT_EQ(field_name("Subject \t: x\r\n"), "Subject");
    EXPECT_EQ(field_name("no colon\r\n"), "");
    EXPECT_EQ(parse_canon("relaxed"), Canon::kRelaxed);
    EXPECT_EQ(parse_canon("strict"), std::nullopt);
}

}  // namespace
}  // namespace tern::mailauth
