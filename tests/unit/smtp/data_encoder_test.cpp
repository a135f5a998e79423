// Unit tests of DataEncoder (RFC 5321 section 4.5.2): dot-stuffing, CRLF normalisation, streaming
// in pieces split anywhere, finish(), and that no fake end of data can ever leave Tern.
#include "smtp/data_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "all_strings.h"
#include "smtp/data_decoder.h"

namespace tern::smtp {
namespace {

// Encodes `text` in the pieces that `cuts` (ascending offsets) mark, then finishes.
std::string encode(std::string_view text, const std::vector<std::size_t>& cuts = {}) {
    DataEncoder e;
    std::string out;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        e.encode(text.substr(from, cut - from), out);
        from = cut;
    }
    e.encode(text.substr(from), out);
    e.finish(out);
    return out;
}

// A plain statement of what goes on the wire: every line end (CRLF, lone CR, lone LF) is CRLF,
// a line starting with "." gets one more, the last line is ended, then ".\r\n".
std::string reference(std::string_view in) {
    std::string out;
    bool start = true;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
            out += "\r\n";
            start = true;
            continue;
        }
        if (start && c == '.') out += '.';
        start = false;
        out += c;
    }
    if (!start) out += "\r\n";
    return out + ".\r\n";
}

using test::all_strings;

// What the receiving server would take out of the DATA stream (the body before CRLF.CRLF).
struct Received {
    std::string body;
    std::size_t consumed = 0;
    bool done = false;
    bool bare = false;
};

Received receive(std::string_view wire) {
    DataDecoder d(DataDecoder::Limits{});
    Received r;
    r.consumed = d.decode(wire, r.body);
    r.done = d.done();
    r.bare = d.saw_bare_line_ending();
    return r;
}

// The text with every line end made CRLF and the last line ended: what the recipient must get.
std::string normalized(std::string_view in) {
    std::string out = reference(in);
    out.resize(out.size() - 3);  // without ".\r\n"
    std::string unstuffed;
    bool start = true;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (start && out[i] == '.') ++i;  // the stuffed dot
        unstuffed += out[i];
        start = out[i] == '\n';
    }
    return unstuffed;
}

// --- examples -----------------------------------------------------------------------------------

TEST(DataEncoder, PlainCrlfTextPassesUnchanged) {
    EXPECT_EQ(encode("Subject: hi\r\n\r\nHello\r\n"), "Subject: hi\r\n\r\nHello\r\n.\r\n");
}

TEST(DataEncoder, EmptyMessageIsJustTheTerminator) {
    EXPECT_EQ(encode(""), ".\r\n");
}

TEST(DataEncoder, EmptyPiecesChangeNothing) {
    DataEncoder e;
    std::string out;
    e.encode("", out);
    e.encode("a", out);
    e.encode("", out);
    e.encode("\r", out);
    e.encode("", out);
    e.encode("\n", out);
    e.encode("", out);
    e.finish(out);
    EXPECT_EQ(out, "a\r\n.\r\n");
}

TEST(DataEncoder, LeadingDotOfTheFirstLineIsDoubled) {
    EXPECT_EQ(encode(".hidden\r\n"), "..hidden\r\n.\r\n");
}

TEST(DataEncoder, LeadingDotOfEveryLineIsDoubled) {
    EXPECT_EQ(encode("a\r\n.b\r\n..c\r\nd.e\r\n"), "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
}

TEST(DataEncoder, DotsInsideALineAreLeftAlone) {
    EXPECT_EQ(encode("a.b..c.\r\n"), "a.b..c.\r\n.\r\n");
}

TEST(DataEncoder, TextOfOnlyDotLinesIsStuffedEveryLine) {
    EXPECT_EQ(encode(".\r\n.\r\n.\r\n"), "..\r\n..\r\n..\r\n.\r\n");
    EXPECT_EQ(encode("."), "..\r\n.\r\n");
    EXPECT_EQ(encode(".\r\n"), "..\r\n.\r\n");
}

TEST(DataEncoder, BareLfBecomesCrlf) {
    EXPECT_EQ(encode("a\nb\n"), "a\r\nb\r\n.\r\n");
}

TEST(DataEncoder, BareCrBecomesCrlf) {
    EXPECT_EQ(encode("a\rb\r"), "a\r\nb\r\n.\r\n");
}

TEST(DataEncoder, CrCrLfIsTwoLineEnds) {
    EXPECT_EQ(encode("a\r\r\nb"), "a\r\n\r\nb\r\n.\r\n");
}

TEST(DataEncoder, LfCrIsTwoLineEnds) {
    EXPECT_EQ(encode("a\n\rb"), "a\r\n\r\nb\r\n.\r\n");
}

TEST(DataEncoder, DotAfterBareLfIsDoubled) {
    EXPECT_EQ(encode("a\n.\nb"), "a\r\n..\r\nb\r\n.\r\n");
}

TEST(DataEncoder, DotAfterBareCrIsDoubled) {
    EXPECT_EQ(encode("a\r.\rb"), "a\r\n..\r\nb\r\n.\r\n");
}

TEST(DataEncoder, SmugglingSequencesCannotEndTheData) {
    // The classic SMTP smuggling payloads: each must arrive as text, not as the end of data.
    EXPECT_EQ(encode("a\n.\nMAIL FROM:<x>\r\n"), "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n");
    EXPECT_EQ(encode("a\r\n.\nb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
    EXPECT_EQ(encode("a\n.\r\nb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
    EXPECT_EQ(encode("a\r.\r\nb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
    EXPECT_EQ(encode("a\r\n.\rb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
}

TEST(DataEncoder, CrAtTheEndOfOnePieceAndLfAtTheStartOfTheNextIsOneLineEnd) {
    DataEncoder e;
    std::string out;
    e.encode("a\r", out);
    e.encode("\n.b", out);
    e.finish(out);
    EXPECT_EQ(out, "a\r\n..b\r\n.\r\n");
}

TEST(DataEncoder, CrAtTheEndOfOnePieceAndTextInTheNextIsABareCr) {
    DataEncoder e;
    std::string out;
    e.encode("a\r", out);
    e.encode(".b", out);
    e.finish(out);
    EXPECT_EQ(out, "a\r\n..b\r\n.\r\n");
}

TEST(DataEncoder, PendingCrIsNotWrittenBeforeItsNextOctetIsKnown) {
    DataEncoder e;
    std::string out;
    e.encode("a\r", out);
    EXPECT_EQ(out, "a");
}

// --- finish -------------------------------------------------------------------------------------

TEST(DataEncoder, FinishAddsCrlfWhenTheTextDoesNotEndWithOne) {
    EXPECT_EQ(encode("no newline"), "no newline\r\n.\r\n");
}

TEST(DataEncoder, FinishAddsNoCrlfWhenTheTextEndsWithOne) {
    EXPECT_EQ(encode("line\r\n"), "line\r\n.\r\n");
}

TEST(DataEncoder, FinishAfterATrailingBareLfOrCrAddsNoSecondCrlf) {
    EXPECT_EQ(encode("line\n"), "line\r\n.\r\n");
    EXPECT_EQ(encode("line\r"), "line\r\n.\r\n");
}

TEST(DataEncoder, EmptyLastLineIsKept) {
    EXPECT_EQ(encode("line\r\n\r\n"), "line\r\n\r\n.\r\n");
}

TEST(DataEncoder, EncoderIsReusableAfterFinish) {
    DataEncoder e;
    std::string first, second;
    e.encode("a\r", first);
    e.finish(first);
    e.encode(".b", second);
    e.finish(second);
    EXPECT_EQ(first, "a\r\n.\r\n");
    EXPECT_EQ(second, "..b\r\n.\r\n");
}

TEST(DataEncoder, EncodeAppendsToExistingOutput) {
    DataEncoder e;
    std::string out = "DATA already sent\r\n";
    e.encode(".x", out);
    e.finish(out);
    EXPECT_EQ(out, "DATA already sent\r\n..x\r\n.\r\n");
}

TEST(DataEncoder, EightBitAndNulOctetsPassUnchanged) {
    std::string text = std::string("caf\xC3\xA9 \x00\xFF", 8) + "\r\n";
    EXPECT_EQ(encode(text), text + ".\r\n");
}

TEST(DataEncoder, LongLinesAreNotSplit) {
    std::string line(10000, 'x');
    EXPECT_EQ(encode(line), line + "\r\n.\r\n");
}

// --- properties ---------------------------------------------------------------------------------

TEST(DataEncoder, MatchesTheReferenceForEveryShortText) {
    for (const auto& text : all_strings(".\r\na", 7))
        ASSERT_EQ(encode(text), reference(text)) << ::testing::PrintToString(text);
}

TEST(DataEncoder, EverySplitGivesTheSameOutputAsOnePiece) {
    for (const auto& text : all_strings(".\r\na", 6)) {
        std::string whole = encode(text);
        for (std::size_t i = 0; i <= text.size(); ++i)
            for (std::size_t j = i; j <= text.size(); ++j)
                ASSERT_EQ(encode(text, {i, j}), whole)
                    << ::testing::PrintToString(text) << " split at " << i << "," << j;
    }
}

TEST(DataEncoder, OneOctetAtATimeGivesTheSameOutputAsOnePiece) {
    const std::string text = ".a\r\r\n.\n\r.\r\n..\rb\n.";
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < text.size(); ++i)
        cuts.push_back(i);
    EXPECT_EQ(encode(text, cuts), encode(text));
    EXPECT_EQ(encode(text), reference(text));
}

// The wire form is well-formed: CR and LF only as CRLF, and exactly one end of data, at the end.
void expect_well_formed(const std::string& text, const std::string& wire) {
    SCOPED_TRACE(::testing::PrintToString(text));
    for (std::size_t i = 0; i < wire.size(); ++i) {
        if (wire[i] == '\r') {
            ASSERT_TRUE(i + 1 < wire.size() && wire[i + 1] == '\n') << i;
        }
        if (wire[i] == '\n') {
            ASSERT_TRUE(i > 0 && wire[i - 1] == '\r') << i;
        }
    }
    ASSERT_GE(wire.size(), 3u);
    ASSERT_EQ(wire.substr(wire.size() - 3), ".\r\n");
    std::string body = wire.substr(0, wire.size() - 3);
    // The DATA command's CRLF precedes the body, so a body line "." is an early end too.
    std::string framed = "\r\n" + body;
    ASSERT_EQ(framed.find("\r\n.\r\n"), std::string::npos);
    ASSERT_TRUE(body.empty() || body.ends_with("\r\n"));
    // A receiving server ends the data exactly at our terminator and gets the text back.
    auto got = receive(wire);
    ASSERT_TRUE(got.done);
    ASSERT_EQ(got.consumed, wire.size());
    ASSERT_FALSE(got.bare);
    ASSERT_EQ(got.body, normalized(text));
}

TEST(DataEncoder, NoEarlyEndOfDataInAnyShortText) {
    for (const auto& text : all_strings(".\r\na", 8))
        expect_well_formed(text, encode(text));
}

TEST(DataEncoder, NoEarlyEndOfDataInRandomTextsSplitRandomly) {
    std::mt19937 rng(20240611);
    const std::string alphabet = "..\r\r\n\nab \x80";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<std::size_t> length(0, 300);
    for (int round = 0; round < 2000; ++round) {
        std::string text(length(rng), ' ');
        for (auto& c : text)
            c = alphabet[pick(rng)];
        std::vector<std::size_t> cuts;
        std::uniform_int_distribution<std::size_t> where(0, text.size());
        for (int k = 0; k < 5; ++k)
            cuts.push_back(where(rng));
        std::sort(cuts.begin(), cuts.end());
        std::string wire = encode(text, cuts);
        ASSERT_EQ(wire, reference(text)) << ::testing::PrintToString(text);
        expect_well_formed(text, wire);
    }
}

}  // namespace
}  // namespace tern::smtp
