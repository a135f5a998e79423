// Unit tests of DataDecoder (RFC 5321 4.1.1.4, 4.5.2): dot-unstuffing, the CRLF.CRLF end, the
// smuggling variants, limits, both bare LF modes, and an exhaustive check of each mode against a
// plain reference model.
#include "smtp/data_decoder.h"

#include <gtest/gtest.h>

#include "all_strings.h"

namespace tern::smtp {
namespace {

struct Decoded {
    std::string out;
    std::size_t consumed = 0;
    bool done = false;
    bool bare = false;
    bool bare_cr = false;
    bool too_long = false;
    bool too_big = false;
    std::uint64_t size = 0;
    std::uint64_t lines = 0;
    std::uint64_t normalized = 0;

    bool operator==(const Decoded&) const = default;
};

void PrintTo(const Decoded& d, std::ostream* os) {
    *os << "{out=" << ::testing::PrintToString(d.out) << " consumed=" << d.consumed
        << " done=" << d.done << " bare=" << d.bare << " bare_cr=" << d.bare_cr
        << " too_long=" << d.too_long << " too_big=" << d.too_big << " size=" << d.size
        << " lines=" << d.lines << " normalized=" << d.normalized << "}";
}

// Decodes `in` fed in the pieces that `cuts` (ascending offsets) mark.
Decoded decode(std::string_view in, DataDecoder::Limits limits = {},
               std::vector<std::size_t> cuts = {}, BareLf mode = BareLf::kReject) {
    DataDecoder decoder(limits, mode);
    Decoded r;
    cuts.push_back(in.size());
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        if (decoder.done()) break;
        std::string_view piece = in.substr(from, cut - from);
        std::size_t used = decoder.decode(piece, r.out);
        r.consumed += used;
        if (!decoder.done()) {
            EXPECT_EQ(used, piece.size());
        }
        from = cut;
    }
    r.done = decoder.done();
    r.bare = decoder.saw_bare_line_ending();
    r.bare_cr = decoder.saw_bare_cr();
    r.normalized = decoder.normalized_line_ends();
    r.too_long = decoder.line_too_long();
    r.too_big = decoder.too_big();
    r.size = decoder.size();
    r.lines = decoder.lines();
    return r;
}

TEST(DataDecoder, PlainMessage) {
    auto r = decode("Subject: x\r\n\r\nbody\r\n.\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.out, "Subject: x\r\n\r\nbody\r\n");
    EXPECT_EQ(r.consumed, 23u);
    EXPECT_EQ(r.lines, 3u);
    EXPECT_EQ(r.size, r.out.size());
    EXPECT_FALSE(r.bare || r.too_long || r.too_big);
}

TEST(DataDecoder, EmptyMessage) {
    auto r = decode(".\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.consumed, 3u);
    EXPECT_EQ(r.lines, 0u);
}

TEST(DataDecoder, DotUnstuffing) {
    auto r = decode("..\r\n..x\r\n.x\r\nx.\r\n...\r\n.\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.out, ".\r\n.x\r\nx\r\nx.\r\n..\r\n");
}

TEST(DataDecoder, StopsRightAfterTheEnd) {
    DataDecoder d({});
    std::string out;
    std::string_view in = "a\r\n.\r\nQUIT\r\n";
    EXPECT_EQ(d.decode(in, out), 6u);
    EXPECT_TRUE(d.done());
    EXPECT_EQ(out, "a\r\n");
    EXPECT_EQ(d.decode("more", out), 0u);
    EXPECT_EQ(out, "a\r\n");
}

TEST(DataDecoder, NotDoneWithoutTheEnd) {
    for (std::string_view in : {"a\r\n", "a\r\n.", "a\r\n.\r", "a\r\n.\n", "a.\r\n", "a\r\n. \r\n",
                                "a\n.\n", "a\r.\r", "a\n.\r\n", "a\r\n.\rx"}) {
        auto r = decode(in);
        EXPECT_FALSE(r.done) << in;
        EXPECT_EQ(r.consumed, in.size()) << in;
    }
}

TEST(DataDecoder, SmugglingVariantsAreTextAndFlagged) {
    for (std::string_view fake : {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r.\r\n"}) {
        std::string in = "a" + std::string(fake) + "MAIL FROM:<e@x>\r\n.\r\n";
        auto r = decode(in);
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.consumed, in.size()) << "the message ends only at the real CRLF.CRLF";
        EXPECT_TRUE(r.bare);
    }
}

TEST(DataDecoder, BareLineEndingStopsOutput) {
    auto r = decode("ok\r\nbad\nline\r\n.\r\n");
    EXPECT_TRUE(r.bare);
    EXPECT_EQ(r.out, "ok\r\nbad");
    EXPECT_EQ(r.size, 14u);
}

// --- BareLf::kNormalize ---------------------------------------------------------------------

Decoded normalize(std::string_view in, DataDecoder::Limits limits = {}) {
    return decode(in, limits, {}, BareLf::kNormalize);
}

TEST(DataDecoderNormalize, BareLineFeedIsALineEndStoredAsCrlf) {
    auto r = normalize("Subject: x\n\nline one\nline two\r\nlast\n\r\n.\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_FALSE(r.bare);
    // The CR LF before the final "." ends a line of its own (RFC 5321 4.1.1.4): after a last
    // line ended by LF it is an empty line.
    EXPECT_EQ(r.out, "Subject: x\r\n\r\nline one\r\nline two\r\nlast\r\n\r\n");
    EXPECT_EQ(r.lines, 6u);
    EXPECT_EQ(r.normalized, 4u);
    EXPECT_EQ(r.size, r.out.size());
}

TEST(DataDecoderNormalize, DotUnstuffingAtEveryLineStart) {
    auto r = normalize("a\n..b\n.c\r\n..d\r\n.\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.out, "a\r\n.b\r\nc\r\n.d\r\n");
}

TEST(DataDecoderNormalize, EndsOnlyAtCrlfDotCrlf) {
    // A "." line after a bare LF, or a "." followed by a bare LF, is stuffing: an empty line.
    for (std::string_view in :
         {"a\n.\n", "a\n.\r\n", "a\r\n.\n", "\n.\r\n", ".\n", "a\n.\nb\n.\n"}) {
        auto r = normalize(in);
        EXPECT_FALSE(r.done) << ::testing::PrintToString(in);
        EXPECT_EQ(r.consumed, in.size()) << ::testing::PrintToString(in);
        EXPECT_FALSE(r.bare) << ::testing::PrintToString(in);
    }
    EXPECT_EQ(normalize("a\n.\r\nb\r\n.\r\n").out, "a\r\n\r\nb\r\n");
    EXPECT_EQ(normalize("a\r\n.\nb\r\n.\r\n").out, "a\r\n\r\nb\r\n");
}

TEST(DataDecoderNormalize, SmugglingVariantsNeverEndTheMessage) {
    for (std::string_view fake : {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r.\r\n"}) {
        std::string in = "a" + std::string(fake) + "MAIL FROM:<e@x>\r\n.\r\n";
        auto r = normalize(in);
        SCOPED_TRACE(::testing::PrintToString(fake));
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.consumed, in.size()) << "the message ends only at the real CRLF.CRLF";
        bool has_cr = std::string_view(fake).find("\r.") != std::string_view::npos ||
                      std::string_view(fake).ends_with(".\r");
        EXPECT_EQ(r.bare, has_cr);  // a bare CR is still refused
        if (!r.bare) {
            EXPECT_EQ(r.out, "a\r\n\r\nMAIL FROM:<e@x>\r\n");
        }
    }
}

TEST(DataDecoderNormalize, BareCarriageReturnIsStillRefused) {
    auto r = normalize("ok\nbad\rline\r\n.\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_TRUE(r.bare);
    EXPECT_TRUE(r.bare_cr);
    EXPECT_EQ(r.out, "ok\r\nbad");
}

TEST(DataDecoderNormalize, LineLimitsCountTheNormalisedLine) {
    DataDecoder::Limits limits{0, 10};  // 8 octets + CRLF
    EXPECT_FALSE(normalize("12345678\n12345678\n\r\n.\r\n", limits).too_long);
    EXPECT_TRUE(normalize("123456789\n\r\n.\r\n", limits).too_long);
    // The size limit counts the stored octets, CR LF for each bare LF.
    DataDecoder::Limits size{4, 0};
    EXPECT_FALSE(normalize("ab\n", size).too_big);  // not done, 4 octets so far
    EXPECT_TRUE(normalize("abc\n\r\n.\r\n", size).too_big);
}

TEST(DataDecoder, LineLengthLimit) {
    DataDecoder::Limits limits{0, 10};  // 8 octets + CRLF
    auto ok = decode("12345678\r\n.\r\n", limits);
    EXPECT_FALSE(ok.too_long);
    EXPECT_EQ(ok.out, "12345678\r\n");
    auto bad = decode("123456789\r\nx\r\n.\r\n", limits);
    EXPECT_TRUE(bad.done);
    EXPECT_TRUE(bad.too_long);
    EXPECT_EQ(bad.out, "");
    // The stuffing dot is not part of the line (RFC 5321 4.5.3.1.6).
    EXPECT_FALSE(decode(".12345678\r\n.\r\n", limits).too_long);
    // A bare CR or LF does not end a line, so it does not reset the count.
    EXPECT_TRUE(decode("1234\n5678\r\n.\r\n", limits).too_long);
}

TEST(DataDecoder, SizeLimit) {
    DataDecoder::Limits limits{10, 0};
    auto ok = decode("12345678\r\n.\r\n", limits);
    EXPECT_FALSE(ok.too_big);
    EXPECT_EQ(ok.size, 10u);
    auto big = decode("123456789\r\nabc\r\n.\r\n", limits);
    EXPECT_TRUE(big.done);
    EXPECT_TRUE(big.too_big);
    EXPECT_EQ(big.size, 16u);  // counted past the limit
    EXPECT_EQ(big.out, "123456789");
}

TEST(DataDecoder, LongMessageInOnePiece) {
    std::string in;
    std::string expected;
    for (int i = 0; i < 10000; ++i) {
        std::string line = (i % 7 == 0 ? "." : "") + std::string(i % 50, 'x');
        in += (line.starts_with(".") ? "." : "") + line + "\r\n";
        expected += line + "\r\n";
    }
    auto r = decode(in + ".\r\n");
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.out, expected);
    EXPECT_EQ(r.lines, 10000u);
}

// --- exhaustive comparison with a reference model --------------------------------------------

// The decoder's contract written as plainly as possible: the message is everything before the
// first "." CR LF that starts a line (a line starts at 0 or after CR LF; in both modes), and a
// CR not followed by LF is bare. With BareLf::kReject an LF not preceded by CR is bare too; with
// BareLf::kNormalize it ends a line and is stored as CR LF. A leading dot is dropped from every
// line (after a bare LF too).
Decoded reference(std::string_view in, DataDecoder::Limits limits, BareLf mode) {
    Decoded r;
    std::size_t end = std::string_view::npos;
    for (std::size_t p = 0; p + 3 <= in.size(); ++p) {
        if (in.substr(p, 3) == ".\r\n" && (p == 0 || (p >= 2 && in.substr(p - 2, 2) == "\r\n"))) {
            end = p;
            break;
        }
    }
    std::string_view message = in;
    if (end != std::string_view::npos) {
        r.done = true;
        r.consumed = end + 3;
        message = in.substr(0, end);
    } else {
        r.consumed = in.size();
        // A final CR may be the first half of a CR LF: not yet decided, not yet output.
        if (!message.empty() && message.back() == '\r') message.remove_suffix(1);
    }
    bool normalize = mode == BareLf::kNormalize;
    std::size_t line_length = 0;
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        bool crlf_cr = c == '\r' && i + 1 < message.size() && message[i + 1] == '\n';
        bool crlf_lf = c == '\n' && i > 0 && message[i - 1] == '\r';
        bool bare_lf = c == '\n' && !crlf_lf;
        bool after_crlf = i >= 2 && message.substr(i - 2, 2) == "\r\n";
        bool after_bare_lf = normalize && i >= 1 && message[i - 1] == '\n' && !after_crlf;
        bool line_start = i == 0 || after_crlf || after_bare_lf;
        if (line_start) line_length = 0;
        if (line_start && c == '.') continue;
        if (c == '\r' && !crlf_cr) r.bare = r.bare_cr = true;
        if (bare_lf && !normalize) r.bare = true;
        if (crlf_lf) ++r.lines;
        if (bare_lf && normalize) {
            ++r.lines;
            ++r.normalized;
            r.out += "\r\n";
            continue;
        }
        if (!crlf_cr && !crlf_lf) {
            ++line_length;
            if (limits.max_line_length != 0 && line_length + 2 > limits.max_line_length)
                r.too_long = true;
        }
        r.out += c;
    }
    r.size = r.out.size();
    r.too_big = limits.max_message_size != 0 && r.size > limits.max_message_size;
    return r;
}

using test::all_strings;

void check_against_reference(DataDecoder::Limits limits, BareLf mode) {
    for (const std::string& in : all_strings("\r\n.a", 7)) {
        Decoded want = reference(in, limits, mode);
        Decoded got = decode(in, limits, {}, mode);
        SCOPED_TRACE(::testing::PrintToString(in));
        EXPECT_EQ(got.done, want.done);
        EXPECT_EQ(got.consumed, want.consumed);
        EXPECT_EQ(got.bare, want.bare);
        EXPECT_EQ(got.bare_cr, want.bare_cr);
        EXPECT_EQ(got.too_long, want.too_long);
        EXPECT_EQ(got.too_big, want.too_big);
        EXPECT_EQ(got.size, want.size);
        EXPECT_EQ(got.lines, want.lines);
        EXPECT_EQ(got.normalized, want.normalized);
        if (got.bare || got.too_long || got.too_big) {
            EXPECT_TRUE(want.out.starts_with(got.out));  // output stops at the first problem
        } else {
            EXPECT_EQ(got.out, want.out);
        }
        // Where a limit is crossed, how much of the crossing piece was appended depends on the
        // split; such a message is refused whole, so only acceptable output must match exactly.
        bool refused = got.bare || got.too_long || got.too_big;
        for (std::size_t cut = 0; cut <= in.size(); ++cut) {
            Decoded split = decode(in, limits, {cut}, mode);
            if (refused) {
                EXPECT_TRUE(want.out.starts_with(split.out)) << "cut at " << cut;
                split.out = got.out;
            }
            EXPECT_EQ(split, got) << "cut at " << cut;
        }
        if (::testing::Test::HasFailure()) return;
    }
}

TEST(DataDecoderModel, NoLimits) {
    check_against_reference({}, BareLf::kReject);
}

TEST(DataDecoderModel, SmallLimits) {
    check_against_reference({4, 4}, BareLf::kReject);
}

TEST(DataDecoderModel, NormalizeNoLimits) {
    check_against_reference({}, BareLf::kNormalize);
}

TEST(DataDecoderModel, NormalizeSmallLimits) {
    check_against_reference({4, 4}, BareLf::kNormalize);
}

// Whatever the mode, the message ends at the same octet: normalising never creates an end.
TEST(DataDecoderModel, ModesAgreeOnTheEnd) {
    for (const std::string& in : all_strings("\r\n.a", 8)) {
        Decoded strict = decode(in, {}, {}, BareLf::kReject);
        Decoded normal = decode(in, {}, {}, BareLf::kNormalize);
        ASSERT_EQ(strict.done, normal.done) << ::testing::PrintToString(in);
        ASSERT_EQ(strict.consumed, normal.consumed) << ::testing::PrintToString(in);
        ASSERT_EQ(strict.bare_cr, normal.bare_cr) << ::testing::PrintToString(in);
        if (!strict.bare) {
            ASSERT_EQ(strict, normal) << ::testing::PrintToString(in);
        }
    }
}

}  // namespace
}  // namespace tern::smtp
