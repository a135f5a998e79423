// Unit tests of ReplyParser (RFC 5321 section 4.2): single and multi-line replies, RFC 2034
// enhanced status codes, input split at every byte, the bounds, malformed input, and reply_line().
#include "smtp/reply_parser.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tern::smtp {
namespace {

// The whole reply as one comparable, printable string.
std::string show(const Reply& r) {
    return std::to_string(r.code) + " [" + r.status + "] " + ::testing::PrintToString(r.text);
}

struct Parsed {
    std::vector<Reply> replies;
    bool broken = false;
};

// Feeds `pieces` one after the other, draining complete replies after each.
Parsed parse_pieces(const std::vector<std::string_view>& pieces) {
    ReplyParser p;
    Parsed out;
    for (auto piece : pieces) {
        p.feed(piece);
        while (auto r = p.next())
            out.replies.push_back(*r);
    }
    out.broken = p.broken();
    return out;
}

Parsed parse(std::string_view bytes) {
    return parse_pieces({bytes});
}

// The only reply in `bytes`; fails the test when there is not exactly one.
Reply one(std::string_view bytes) {
    auto r = parse(bytes);
    EXPECT_FALSE(r.broken) << bytes;
    EXPECT_EQ(r.replies.size(), 1u) << bytes;
    return r.replies.empty() ? Reply{} : r.replies.front();
}

void expect_same_replies(const Parsed& got, const Parsed& want, const std::string& where) {
    EXPECT_EQ(got.broken, want.broken) << where;
    ASSERT_EQ(got.replies.size(), want.replies.size()) << where;
    for (std::size_t i = 0; i < got.replies.size(); ++i)
        EXPECT_EQ(show(got.replies[i]), show(want.replies[i])) << where << " reply " << i;
}

// --- well-formed replies ------------------------------------------------------------------------

TEST(ReplyParser, SingleLineReplyGivesCodeAndText) {
    auto r = one("220 mx.example ESMTP ready\r\n");
    EXPECT_EQ(r.code, 220);
    EXPECT_EQ(r.status, "");
    EXPECT_EQ(r.text, "mx.example ESMTP ready");
}

TEST(ReplyParser, MultiLineReplyJoinsLinesWithNewline) {
    auto r =
        one("250-mx.example greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n");
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.status, "");
    EXPECT_EQ(r.text, "mx.example greets you\nPIPELINING\nSIZE 1000\n8BITMIME");
}

TEST(ReplyParser, NothingUntilTheLastLineOfAMultiLineReplyArrives) {
    ReplyParser p;
    p.feed("250-first\r\n250-second\r\n");
    EXPECT_FALSE(p.next());
    p.feed("250 third\r\n");
    auto r = p.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->text, "first\nsecond\nthird");
    EXPECT_FALSE(p.next());
    EXPECT_FALSE(p.broken());
}

TEST(ReplyParser, CodeOnlyLineIsACompleteReplyWithEmptyText) {
    auto r = one("250\r\n");
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.text, "");
    EXPECT_EQ(r.status, "");
}

TEST(ReplyParser, CodeOnlyLineEndsAMultiLineReply) {
    auto r = one("250-first\r\n250\r\n");
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.text, "first\n");
}

TEST(ReplyParser, CodeAndSpaceGivesEmptyText) {
    auto r = one("354 \r\n");
    EXPECT_EQ(r.code, 354);
    EXPECT_EQ(r.text, "");
}

TEST(ReplyParser, EmptyContinuationLinesAreKept) {
    auto r = one("220-\r\n220-\r\n220 last\r\n");
    EXPECT_EQ(r.text, "\n\nlast");
}

TEST(ReplyParser, EveryReplyClassTwoToFiveIsAccepted) {
    EXPECT_EQ(one("221 bye\r\n").code, 221);
    EXPECT_EQ(one("354 go ahead\r\n").code, 354);
    EXPECT_EQ(one("421 closing\r\n").code, 421);
    EXPECT_EQ(one("554 no\r\n").code, 554);
}

TEST(ReplyParser, SeveralRepliesInOneFeedComeOutInOrder) {
    auto r = parse(
        "250 2.1.0 sender ok\r\n250-2.1.5 one\r\n250 2.1.5 two\r\n550 5.1.1 nobody\r\n"
        "354 go\r\n");
    ASSERT_FALSE(r.broken);
    ASSERT_EQ(r.replies.size(), 4u);
    EXPECT_EQ(r.replies[0].code, 250);
    EXPECT_EQ(r.replies[0].text, "sender ok");
    EXPECT_EQ(r.replies[1].code, 250);
    EXPECT_EQ(r.replies[1].text, "one\ntwo");
    EXPECT_EQ(r.replies[2].code, 550);
    EXPECT_EQ(r.replies[2].status, "5.1.1");
    EXPECT_EQ(r.replies[3].code, 354);
}

TEST(ReplyParser, PartialReplyAfterACompleteOneWaitsForMoreBytes) {
    ReplyParser p;
    p.feed("250 ok\r\n550 5.1");
    auto a = p.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->code, 250);
    EXPECT_FALSE(p.next());
    p.feed(".1 no such user\r\n");
    auto b = p.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->code, 550);
    EXPECT_EQ(b->status, "5.1.1");
    EXPECT_EQ(b->text, "no such user");
}

TEST(ReplyParser, ParserIsReusableForALongSession) {
    ReplyParser p;
    for (int i = 0; i < 1000; ++i) {
        p.feed("250 2.0.0 ok " + std::to_string(i) + "\r\n");
        auto r = p.next();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->text, "ok " + std::to_string(i));
        EXPECT_FALSE(p.next());
    }
    EXPECT_FALSE(p.broken());
}

// --- bare LF ------------------------------------------------------------------------------------
// The implementation tolerates a bare LF as a line end from servers (reply_parser.cpp says so);
// it must neither break the parser nor leave the CR-less line in the text.

TEST(ReplyParser, BareLfEndsALine) {
    auto r = one("250 ok\n");
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.text, "ok");
}

TEST(ReplyParser, BareLfAndCrlfMixInOneMultiLineReply) {
    auto r = one("250-a\n250-b\r\n250 c\n");
    EXPECT_EQ(r.text, "a\nb\nc");
}

TEST(ReplyParser, CrInsideALineIsNotALineEnd) {
    ReplyParser p;
    p.feed("250 a\rb");
    EXPECT_FALSE(p.next());
    p.feed("\r\n");
    auto r = p.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->text, "a\rb");
}

// --- enhanced status codes (RFC 2034) -----------------------------------------------------------

TEST(ReplyParser, EnhancedStatusIsTakenFromASingleLine) {
    auto r = one("550 5.1.1 <bob@b.example>: no such user\r\n");
    EXPECT_EQ(r.code, 550);
    EXPECT_EQ(r.status, "5.1.1");
    EXPECT_EQ(r.text, "<bob@b.example>: no such user");
}

TEST(ReplyParser, EnhancedStatusWithoutTextLeavesEmptyText) {
    auto r = one("250 2.0.0\r\n");
    EXPECT_EQ(r.status, "2.0.0");
    EXPECT_EQ(r.text, "");
}

TEST(ReplyParser, EnhancedStatusWithThreeDigitParts) {
    auto r = one("550 5.123.456 long parts\r\n");
    EXPECT_EQ(r.status, "5.123.456");
    EXPECT_EQ(r.text, "long parts");
}

TEST(ReplyParser, EnhancedStatusIsRemovedFromEveryLineThatCarriesIt) {
    auto r = one("550-5.7.1 first line\r\n550-5.7.1 second line\r\n550 5.7.1 third line\r\n");
    EXPECT_EQ(r.status, "5.7.1");
    EXPECT_EQ(r.text, "first line\nsecond line\nthird line");
}

TEST(ReplyParser, EnhancedStatusOnlyOnTheFirstLineIsNotTaken) {
    auto r = one("550-5.7.1 first line\r\n550 second line\r\n");
    EXPECT_EQ(r.status, "");
    EXPECT_EQ(r.text, "5.7.1 first line\nsecond line");
}

TEST(ReplyParser, EnhancedStatusMissingOnTheFirstLineIsNotTaken) {
    auto r = one("550-first line\r\n550 5.7.1 second line\r\n");
    EXPECT_EQ(r.status, "");
    EXPECT_EQ(r.text, "first line\n5.7.1 second line");
}

TEST(ReplyParser, DifferentEnhancedStatusesOnTheLinesAreNotTaken) {
    auto r = one("550-5.7.1 first line\r\n550 5.1.1 second line\r\n");
    EXPECT_EQ(r.status, "");
    EXPECT_EQ(r.text, "5.7.1 first line\n5.1.1 second line");
}

TEST(ReplyParser, EnhancedStatusOfAnotherClassThanTheCodeIsText) {
    auto r = one("250 5.0.0 odd\r\n");
    EXPECT_EQ(r.status, "");
    EXPECT_EQ(r.text, "5.0.0 odd");
}

TEST(ReplyParser, TextThatOnlyLooksLikeAStatusIsText) {
    EXPECT_EQ(one("250 2.0 ok\r\n").status, "");
    EXPECT_EQ(one("250 2.0.0ok\r\n").status, "");
    EXPECT_EQ(one("250 2..0 ok\r\n").status, "");
    EXPECT_EQ(one("250 2.0. ok\r\n").status, "");
    EXPECT_EQ(one("250 2.0000.0 ok\r\n").status, "");
    EXPECT_EQ(one("250 2.0.0000 ok\r\n").status, "");
    EXPECT_EQ(one("250 2.0.0000 ok\r\n").text, "2.0.0000 ok");
    EXPECT_EQ(one("250 x.0.0 ok\r\n").status, "");
}

// --- split at every byte ------------------------------------------------------------------------

const std::string kSession =
    "220 mx.example ESMTP\r\n"
    "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 ENHANCEDSTATUSCODES\r\n"
    "250 2.1.0 Sender ok\r\n"
    "250 2.1.5 ok\r\n"
    "550-5.1.1 no such user\r\n550 5.1.1 see the docs\r\n"
    "354 go ahead\n"
    "250\r\n"
    "421 4.3.2 bye\r\n";

TEST(ReplyParser, SplitAtEveryByteGivesTheSameReplies) {
    auto whole = parse(kSession);
    ASSERT_EQ(whole.replies.size(), 8u);
    std::string_view s = kSession;
    for (std::size_t i = 0; i <= s.size(); ++i)
        expect_same_replies(parse_pieces({s.substr(0, i), s.substr(i)}), whole,
                            "split at " + std::to_string(i));
}

TEST(ReplyParser, SplitAtEveryPairOfBytesGivesTheSameReplies) {
    const std::string input = "250-2.0.0 a\r\n250 2.0.0 b\r\n550 5.1.1 c\n354\r\n";
    auto whole = parse(input);
    ASSERT_EQ(whole.replies.size(), 3u);
    std::string_view s = input;
    for (std::size_t i = 0; i <= s.size(); ++i)
        for (std::size_t j = i; j <= s.size(); ++j)
            expect_same_replies(parse_pieces({s.substr(0, i), s.substr(i, j - i), s.substr(j)}),
                                whole, "split at " + std::to_string(i) + "," + std::to_string(j));
}

TEST(ReplyParser, OneByteAtATimeGivesTheSameReplies) {
    std::vector<std::string_view> bytes;
    std::string_view s = kSession;
    for (std::size_t i = 0; i < s.size(); ++i)
        bytes.push_back(s.substr(i, 1));
    expect_same_replies(parse_pieces(bytes), parse(kSession), "byte by byte");
}

// --- malformed input ----------------------------------------------------------------------------

void expect_broken(std::string_view bytes) {
    ReplyParser p;
    p.feed(bytes);
    EXPECT_FALSE(p.next()) << ::testing::PrintToString(std::string(bytes));
    EXPECT_TRUE(p.broken()) << ::testing::PrintToString(std::string(bytes));
    EXPECT_FALSE(p.error().empty());
}

TEST(ReplyParser, NonDigitCodeIsBroken) {
    expect_broken("2x0 ok\r\n");
    expect_broken("abc ok\r\n");
    expect_broken("25 ok\r\n");
    expect_broken(" 250 ok\r\n");
}

TEST(ReplyParser, LineShorterThanACodeIsBroken) {
    expect_broken("\r\n");
    expect_broken("\n");
    expect_broken("25\r\n");
}

TEST(ReplyParser, CodeOutsideTwoToFiveIsBroken) {
    expect_broken("199 informational\r\n");
    expect_broken("099 x\r\n");
    expect_broken("600 x\r\n");
    expect_broken("999 x\r\n");
}

TEST(ReplyParser, FourthCharacterOtherThanSpaceOrDashIsBroken) {
    expect_broken("250ok\r\n");
    expect_broken("250_ok\r\n");
    expect_broken("2500 ok\r\n");
}

TEST(ReplyParser, CodeChangeInsideAMultiLineReplyIsBroken) {
    expect_broken("250-first\r\n251 second\r\n");
    expect_broken("250-first\r\n550-second\r\n550 third\r\n");
}

TEST(ReplyParser, MalformedContinuationLineIsBroken) {
    expect_broken("250-first\r\nsecond\r\n250 third\r\n");
}

TEST(ReplyParser, GarbageAfterAGoodReplyBreaksOnlyAfterIt) {
    ReplyParser p;
    p.feed("250 ok\r\nHTTP/1.1 400 Bad Request\r\n");
    auto r = p.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, 250);
    EXPECT_FALSE(p.next());
    EXPECT_TRUE(p.broken());
}

TEST(ReplyParser, BrokenParserStaysBroken) {
    ReplyParser p;
    p.feed("hello\r\n");
    EXPECT_FALSE(p.next());
    ASSERT_TRUE(p.broken());
    p.feed("250 ok\r\n");
    EXPECT_FALSE(p.next());
    EXPECT_TRUE(p.broken());
}

TEST(ReplyParser, ErrorNamesTheBadLine) {
    ReplyParser p;
    p.feed("SSH-2.0-OpenSSH\r\n");
    EXPECT_FALSE(p.next());
    EXPECT_NE(p.error().find("SSH-2.0-OpenSSH"), std::string::npos) << p.error();
}

// --- bounds -------------------------------------------------------------------------------------

TEST(ReplyParser, LineOfExactlyMaxLineOctetsIsAccepted) {
    std::string line = "250 " + std::string(ReplyParser::kMaxLine - 4, 'x');
    auto r = one(line + "\r\n");
    EXPECT_EQ(r.text.size(), ReplyParser::kMaxLine - 4);
}

TEST(ReplyParser, LineOfMaxLineOctetsIsAcceptedWhateverTheSplit) {
    // A CR at the end of one read and its LF in the next must not count against the line.
    std::string input = "250 " + std::string(ReplyParser::kMaxLine - 4, 'x') + "\r\n";
    std::string_view s = input;
    for (std::size_t i = s.size() - 8; i <= s.size(); ++i) {
        auto r = parse_pieces({s.substr(0, i), s.substr(i)});
        EXPECT_FALSE(r.broken) << "split at " << i;
        EXPECT_EQ(r.replies.size(), 1u) << "split at " << i;
    }
}

TEST(ReplyParser, LineLongerThanMaxLineIsBroken) {
    expect_broken("250 " + std::string(ReplyParser::kMaxLine - 3, 'x') + "\r\n");
}

TEST(ReplyParser, OverlongLineWithoutLineEndIsBrokenBeforeItEnds) {
    // A server streaming an endless line must not make the parser buffer it all.
    ReplyParser p;
    p.feed("250 ");
    std::string chunk(1024, 'x');
    for (int i = 0; i < 8 && !p.broken(); ++i) {
        p.feed(chunk);
        EXPECT_FALSE(p.next());
    }
    EXPECT_TRUE(p.broken());
}

std::string lines_reply(std::size_t n) {
    std::string s;
    for (std::size_t i = 1; i < n; ++i)
        s += "250-line\r\n";
    return s + "250 last\r\n";
}

TEST(ReplyParser, ReplyOfExactlyMaxLinesIsAccepted) {
    auto r = one(lines_reply(ReplyParser::kMaxLines));
    EXPECT_EQ(std::count(r.text.begin(), r.text.end(), '\n') + 1,
              static_cast<std::ptrdiff_t>(ReplyParser::kMaxLines));
}

TEST(ReplyParser, ReplyOfMoreThanMaxLinesIsBroken) {
    expect_broken(lines_reply(ReplyParser::kMaxLines + 1));
}

TEST(ReplyParser, EndlessMultiLineReplyIsBrokenBeforeItEnds) {
    ReplyParser p;
    for (std::size_t i = 0; i <= ReplyParser::kMaxLines && !p.broken(); ++i) {
        p.feed("250-more\r\n");
        EXPECT_FALSE(p.next());
    }
    EXPECT_TRUE(p.broken());
}

// --- reply_line ---------------------------------------------------------------------------------

TEST(ReplyLine, GivesCodeStatusAndText) {
    EXPECT_EQ(reply_line(Reply{550, "5.1.1", "no such user"}), "550 5.1.1 no such user");
}

TEST(ReplyLine, LeavesOutAnEmptyStatus) {
    EXPECT_EQ(reply_line(Reply{220, "", "mx.example ESMTP"}), "220 mx.example ESMTP");
}

TEST(ReplyLine, LeavesOutEmptyText) {
    EXPECT_EQ(reply_line(Reply{250, "2.0.0", ""}), "250 2.0.0");
    EXPECT_EQ(reply_line(Reply{250, "", ""}), "250");
}

TEST(ReplyLine, JoinsMultiLineTextWithSpaces) {
    EXPECT_EQ(reply_line(Reply{550, "5.7.1", "first\nsecond\nthird"}),
              "550 5.7.1 first second third");
}

TEST(ReplyLine, RoundTripsAParsedMultiLineReply) {
    EXPECT_EQ(reply_line(one("550-5.7.1 blocked\r\n550 5.7.1 see https://x.example\r\n")),
              "550 5.7.1 blocked see https://x.example");
}

}  // namespace
}  // namespace tern::smtp
