// Unit tests of the session's defences against abusive clients found by the adversarial review
// (issue 10): over-long lines streamed without end, recipient overshoot, hop count at receipt,
// NUL octets, and the line-progress signal the driver bounds command time with.
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

SessionDriver ready_for_data(SessionOptions o = default_options()) {
    auto d = after_ehlo(o);
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    return d;
}

std::string received_fields(int n) {
    std::string h;
    for (int i = 0; i < n; ++i)
        h += "Received: from h" + std::to_string(i) + ".example by x.example; Mon, 1 Jan 2024\r\n";
    return h;
}

// --- an over-long command line without end --------------------------------------------------

TEST(ServerSessionDefence, EndlessLineCountsErrorsUntilClosed) {
    auto o = default_options();
    o.limits.max_errors = 5;
    auto d = after_ehlo(o);
    // The first 512 octets get the 500; each further 512 discarded counts as one more error.
    std::string junk(512 * 10, 'x');
    auto sent = d.feed_in_pieces(junk, 100);
    EXPECT_EQ(codes(sent), "500 5.5.6, 421 4.7.0");
    EXPECT_TRUE(d.session.closed());
}

TEST(ServerSessionDefence, ShortOverlongLineIsOneError) {
    auto o = default_options();
    o.limits.max_errors = 3;
    auto d = after_ehlo(o);
    // 600 octets: one 500 reply, the 88 skipped are less than a line's worth.
    EXPECT_EQ(codes(d.feed(std::string(600, 'x') + "\r\n")), "500 5.5.6");
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
    EXPECT_EQ(codes(d.cmd("BOGUS")), "500 5.5.2");
    EXPECT_FALSE(d.session.closed());
}

TEST(ServerSessionDefence, SkippedLineEndingInOneReadCountsToo) {
    auto o = default_options();
    o.limits.max_errors = 4;
    auto d = after_ehlo(o);
    // One read with the whole line: the first 512 octets cost the 500, the 512 * 4 after them
    // four errors, which reach the limit.
    EXPECT_EQ(codes(d.feed(std::string(512 * 5 + 10, 'x') + "\r\nNOOP\r\n")),
              "500 5.5.6, 421 4.7.0");
    EXPECT_TRUE(d.session.closed());
}

TEST(ServerSessionDefence, MidLineTellsAPartialCommand) {
    auto d = after_ehlo();
    EXPECT_FALSE(d.session.mid_line());
    d.feed("NO");
    EXPECT_TRUE(d.session.mid_line());
    d.feed("OP\r\n");
    EXPECT_FALSE(d.session.mid_line());
    // Skipping the rest of an over-long line is part of that line.
    d.feed(std::string(600, 'x'));
    EXPECT_TRUE(d.session.mid_line());
    d.feed("\r\n");
    EXPECT_FALSE(d.session.mid_line());
    // Message text is not a command line.
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    d.feed("partial");
    EXPECT_FALSE(d.session.mid_line());
    EXPECT_TRUE(d.session.reading_message());
}

// --- recipients past the limit ------------------------------------------------------------------

TEST(ServerSessionDefence, RecipientOvershootIsNotAnError) {
    auto o = default_options();
    o.limits.max_recipients = 2;
    o.limits.max_errors = 3;
    auto d = after_ehlo(o);
    d.cmd("MAIL FROM:<a@a.example>");
    std::string rcpts;
    for (int i = 0; i < 30; ++i)
        rcpts += "RCPT TO:<b" + std::to_string(i) + "@b.example>\r\n";
    auto sent = d.feed(rcpts + "DATA\r\n");
    EXPECT_FALSE(d.session.closed());
    EXPECT_EQ(sent.substr(sent.size() - 37), "354 End data with <CR><LF>.<CR><LF>\r\n");
    EXPECT_EQ(codes(d.feed("x\r\n.\r\n")), "250 2.0.0");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients.size(), 2u);
}

TEST(ServerSessionDefence, RecipientOvershootBeyondItsLimitCounts) {
    auto o = default_options();
    o.limits.max_recipients = 1;
    o.limits.recipient_overshoot = 2;
    o.limits.max_errors = 3;
    auto d = after_ehlo(o);
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b0@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b1@b.example>")), "452 4.5.3");  // overshoot 1
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b2@b.example>")), "452 4.5.3");  // overshoot 2
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b3@b.example>")), "452 4.5.3");  // error 1
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b4@b.example>")), "452 4.5.3");  // error 2
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b5@b.example>")), "452 4.5.3, 421 4.7.0");
    EXPECT_TRUE(d.session.closed());
}

TEST(ServerSessionDefence, RecipientOvershootIsPerTransaction) {
    auto o = default_options();
    o.limits.max_recipients = 1;
    o.limits.recipient_overshoot = 1;
    o.limits.max_errors = 2;
    auto d = after_ehlo(o);
    for (int round = 0; round < 3; ++round) {
        d.cmd("MAIL FROM:<a@a.example>");
        EXPECT_EQ(codes(d.cmd("RCPT TO:<b0@b.example>")), "250 2.1.5");
        EXPECT_EQ(codes(d.cmd("RCPT TO:<b1@b.example>")), "452 4.5.3");
        EXPECT_EQ(codes(d.cmd("RSET")), "250 2.0.0");
    }
    EXPECT_FALSE(d.session.closed());
}

// --- hop count at receipt -----------------------------------------------------------------------

TEST(ServerSessionDefence, TooManyHopsRefusedAtEndOfData) {
    auto o = default_options();
    o.limits.max_hops = 5;
    auto d = ready_for_data(o);
    d.cmd("DATA");
    // Five Received fields and ours make six.
    auto sent = d.feed(received_fields(5) + "Subject: loop\r\n\r\nbody\r\n.\r\n");
    EXPECT_EQ(sent, "554 5.4.6 Too many hops (6 Received fields; the limit is 5): mail loop?\r\n");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
}

TEST(ServerSessionDefence, HopsAtTheLimitPass) {
    auto o = default_options();
    o.limits.max_hops = 5;
    auto d = ready_for_data(o);
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed(received_fields(4) + "Subject: ok\r\n\r\nbody\r\n.\r\n")), "250 2.0.0");
}

TEST(ServerSessionDefence, ReceivedInTheBodyIsNotAHop) {
    auto o = default_options();
    o.limits.max_hops = 2;
    auto d = ready_for_data(o);
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed("Subject: quoted\r\n\r\n" + received_fields(5) + ".\r\n")), "250 2.0.0");
}

TEST(ServerSessionDefence, HopsCountedInBdatChunksSplitAnywhere) {
    auto o = default_options();
    o.limits.max_hops = 3;
    auto d = ready_for_data(o);
    std::string text = received_fields(3) + "\r\nbody\r\n";
    std::string half1 = text.substr(0, 17), half2 = text.substr(17);
    EXPECT_EQ(codes(d.feed("BDAT " + std::to_string(half1.size()) + "\r\n" + half1)), "250 2.0.0");
    EXPECT_EQ(codes(d.feed("BDAT " + std::to_string(half2.size()) + " LAST\r\n" + half2)),
              "554 5.4.6");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
}

TEST(ServerSessionDefence, ZeroMaxHopsMeansNoLimit) {
    auto o = default_options();
    o.limits.max_hops = 0;
    auto d = ready_for_data(o);
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed(received_fields(300) + "\r\nx\r\n.\r\n")), "250 2.0.0");
}

// --- NUL octets ---------------------------------------------------------------------------------

TEST(ServerSessionDefence, NulOctetRefusedByDefault) {
    auto d = ready_for_data();
    d.cmd("DATA");
    EXPECT_EQ(d.feed(std::string("Subject: x\r\n\r\nbad\0byte\r\n.\r\n", 27)),
              "554 5.6.0 Message contains NUL octets\r\n");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    // The session goes on.
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
}

TEST(ServerSessionDefence, NulOctetStripped) {
    auto o = default_options();
    o.limits.nul_octets = NulOctets::kStrip;
    auto d = ready_for_data(o);
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed(std::string("Sub\0ject: x\r\n\r\nbad\0byte\r\n.\r\n", 28))),
              "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "Subject: x\r\n\r\nbadbyte\r\n");
}

TEST(ServerSessionDefence, NulOctetAccepted) {
    auto o = default_options();
    o.limits.nul_octets = NulOctets::kAccept;
    auto d = ready_for_data(o);
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed(std::string("Subject: x\r\n\r\nbad\0byte\r\n.\r\n", 27))), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], std::string("Subject: x\r\n\r\nbad\0byte\r\n", 24));
}

TEST(ServerSessionDefence, NulOctetInBdatRefused) {
    auto d = ready_for_data();
    std::string chunk("Subject: x\r\n\r\n\0\r\n", 17);
    EXPECT_EQ(codes(d.feed("BDAT 17 LAST\r\n" + chunk)), "554 5.6.0");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
}

// --- DSN parameters -----------------------------------------------------------------------------

TEST(ServerSessionDefence, EnvidWithControlCharactersRefused) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+0Db")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+00")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+7F")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+C3+A9")), "501 5.5.4");  // not ASCII
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+20b")), "250 2.1.0");
}

TEST(ServerSessionDefence, OrcptWithControlCharactersRefused) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> ORCPT=rfc822;b+0A@b.example")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> ORCPT=rfc822;b+1B@b.example")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> ORCPT=rfc822;b@b.example")), "250 2.1.5");
}

}  // namespace
}  // namespace tern::smtp::test
