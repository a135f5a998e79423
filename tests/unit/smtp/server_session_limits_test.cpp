// Unit tests of the limits a ServerSession enforces (SessionLimits): command and text line length,
// message size at MAIL, DATA and BDAT, recipients per message, errors per session, AUTH lines.
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

// --- command line length -----------------------------------------------------------------------

TEST(ServerSessionLimits, CommandLineAtTheLimit) {
    SessionDriver d;  // 512 octets including CRLF
    EXPECT_EQ(codes(d.cmd("NOOP " + std::string(505, 'x'))), "250 2.0.0");
    EXPECT_EQ(d.cmd("NOOP " + std::string(506, 'x')), "500 5.5.6 Line too long\r\n");
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
}

TEST(ServerSessionLimits, LongMailLineIsNotParsed) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=" + std::string(600, 'x'))), "500 5.5.6");
    EXPECT_TRUE(d.checked_senders.empty());
}

TEST(ServerSessionLimits, CommandLineLimitIsConfigurable) {
    auto o = default_options();
    o.limits.max_command_line = 10;
    SessionDriver d(o);
    EXPECT_EQ(codes(d.cmd("NOOP 1234")), "500 5.5.6");  // 11 octets
    EXPECT_EQ(codes(d.cmd("NOOP 123")), "250 2.0.0");   // 10 octets
}

TEST(ServerSessionLimits, LongLineSplitAcrossManyReads) {
    SessionDriver d;
    std::string line = crlf("NOOP " + std::string(600, 'x'));
    EXPECT_EQ(codes(d.feed_in_pieces(line, 7)), "500 5.5.6");
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
    // A legal line arriving one octet at a time is answered once, at its end.
    std::string legal = crlf("NOOP " + std::string(505, 'y'));
    EXPECT_EQ(d.feed_in_pieces(legal.substr(0, legal.size() - 1), 1), "");
    EXPECT_EQ(codes(d.feed("\n")), "250 2.0.0");
}

TEST(ServerSessionLimits, LongLineWithoutCrlfIsRefusedAtOnce) {
    SessionDriver d;
    EXPECT_EQ(codes(d.feed(std::string(600, 'x'))), "500 5.5.6");
    // The rest of that line is skipped, whatever it looks like.
    EXPECT_EQ(d.feed("QUIT"), "");
    EXPECT_EQ(d.feed(std::string(5000, 'y')), "");
    EXPECT_EQ(codes(d.feed("zzz\r\nNOOP\r\n")), "250 2.0.0");
    EXPECT_FALSE(d.session.closed());
}

TEST(ServerSessionLimits, LongLineEndingInSplitCrlf) {
    SessionDriver d;
    EXPECT_EQ(codes(d.feed(std::string(600, 'x') + "\r")), "500 5.5.6");
    EXPECT_EQ(codes(d.feed("\nNOOP\r\n")), "250 2.0.0");
}

TEST(ServerSessionLimits, PipelinedCommandsAfterALongLine) {
    SessionDriver d;
    EXPECT_EQ(codes(d.feed(crlf(std::string(700, 'x')) + "NOOP\r\nHELP\r\n")),
              "500 5.5.6, 250 2.0.0, 214 2.0.0");
}

// --- text line length in DATA -----------------------------------------------------------------

TEST(ServerSessionLimits, TextLineAtTheLimit) {
    auto d = in_transaction();  // 1000 octets including CRLF
    d.cmd("DATA");
    std::string line998 = std::string(998, 'a') + "\r\n";
    EXPECT_EQ(codes(d.feed(line998 + ".\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], line998);
}

TEST(ServerSessionLimits, TextLineTooLongIsRefusedAtEndOfData) {
    auto d = in_transaction();
    d.cmd("DATA");
    EXPECT_EQ(d.feed("ok\r\n" + std::string(999, 'a') + "\r\nmore\r\n"), "");
    EXPECT_EQ(d.feed(".\r\n"), "500 5.5.6 Message has a line that is too long\r\n");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");  // the transaction is over
}

TEST(ServerSessionLimits, StuffingDotIsNotCountedInTheLine) {
    auto d = in_transaction();
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed("." + std::string(998, '.') + "\r\n.\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], std::string(998, '.') + "\r\n");
}

TEST(ServerSessionLimits, TextLineLimitIsConfigurable) {
    auto o = default_options();
    o.limits.max_text_line = 12;
    auto d = in_transaction(o);
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed("0123456789\r\n.\r\n")), "250 2.0.0");
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    EXPECT_EQ(codes(d.feed("0123456789X\r\n.\r\n")), "500 5.5.6");
}

// --- message size ------------------------------------------------------------------------------

TEST(ServerSessionLimits, SizeAtMail) {
    auto o = default_options();
    o.limits.max_message_size = 1000;
    auto d = after_ehlo(o);
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example> SIZE=1001"),
              "552 5.3.4 Message size exceeds fixed limit\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=1000")), "250 2.1.0");
}

TEST(ServerSessionLimits, SizeHugeValueAtMail) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=18446744073709551615")), "552 5.3.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=18446744073709551616")), "501 5.5.4");
}

TEST(ServerSessionLimits, SizeAtEndOfData) {
    auto o = default_options();
    o.limits.max_message_size = 100;
    auto d = in_transaction(o);
    d.cmd("DATA");
    std::string exact = std::string(98, 'a') + "\r\n";  // 100 octets
    EXPECT_EQ(codes(d.feed(exact + ".\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], exact);

    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    EXPECT_EQ(d.feed(std::string(99, 'a') + "\r\n"), "");  // 101 octets: refused at the end
    EXPECT_EQ(d.feed(".\r\n"), "552 5.3.4 Message size exceeds fixed limit\r\n");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.messages.size(), 1u);
}

TEST(ServerSessionLimits, SizeAcrossBdatChunks) {
    auto o = default_options();
    o.limits.max_message_size = 100;
    auto d = in_transaction(o);
    EXPECT_EQ(codes(d.feed("BDAT 60\r\n" + std::string(60, 'a'))), "250 2.0.0");
    // The refused chunk is still read in full: none of it is taken as a command.
    std::string chunk = "QUIT\r\nMAIL FROM:<evil@x.example>\r\n";
    chunk += std::string(41 - chunk.size(), 'b');
    EXPECT_EQ(d.feed("BDAT 41 LAST\r\n" + chunk), "552 5.3.4 Message size exceeds fixed limit\r\n");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.checked_senders.size(), 1u);
    EXPECT_FALSE(d.session.closed());
    // The transaction has failed (RFC 3030): more chunks need a new MAIL.
    EXPECT_EQ(codes(d.feed("BDAT 0 LAST\r\n")), "503 5.5.1");
}

TEST(ServerSessionLimits, BdatChunksUpToTheLimit) {
    auto o = default_options();
    o.limits.max_message_size = 100;
    auto d = in_transaction(o);
    EXPECT_EQ(codes(d.feed("BDAT 60\r\n" + std::string(60, 'a'))), "250 2.0.0");
    EXPECT_EQ(codes(d.feed("BDAT 40 LAST\r\n" + std::string(40, 'b'))), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], std::string(60, 'a') + std::string(40, 'b'));
}

TEST(ServerSessionLimits, OneBdatChunkOverTheLimit) {
    auto o = default_options();
    o.limits.max_message_size = 100;
    auto d = in_transaction(o);
    EXPECT_EQ(codes(d.feed("BDAT 101 LAST\r\n" + std::string(101, 'a'))), "552 5.3.4");
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
    // A refused chunk is still read in full before the refusal, however large it claims to be.
    EXPECT_EQ(d.feed("BDAT 18446744073709551615 LAST\r\nNOOP\r\n"), "");
    EXPECT_TRUE(d.session.reading_message());
}

// --- recipients ---------------------------------------------------------------------------------

TEST(ServerSessionLimits, RecipientsPerMessage) {
    auto o = default_options();
    o.limits.max_recipients = 2;
    auto d = after_ehlo(o);
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b1@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b2@b.example>")), "250 2.1.5");
    EXPECT_EQ(d.cmd("RCPT TO:<b3@b.example>"), "452 4.5.3 Too many recipients\r\n");
    EXPECT_EQ(d.checked_recipients.size(), 2u);
    EXPECT_EQ(codes(d.cmd("DATA")), "354");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients.size(), 2u);
    // The limit is per transaction.
    d.feed(".\r\n");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b3@b.example>")), "250 2.1.5");
}

TEST(ServerSessionLimits, RefusedRecipientsDoNotCount) {
    auto o = default_options();
    o.limits.max_recipients = 1;
    auto d = after_ehlo(o);
    d.recipient_policy = [](const RcptCommand& r) {
        if (r.recipient.mailbox.local == "nobody")
            return std::optional<Reply>(reply(ReplyName::kUnknownUser));
        return std::optional<Reply>(reply(ReplyName::kRecipientOk));
    };
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<nobody@b.example>")), "550 5.1.1");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<c@b.example>")), "452 4.5.3");
}

// --- LIMITS (RFC 9422)
// ----------------------------------------------------------------------------

TEST(ServerSessionLimits, LimitsAdvertisedFromTheConfiguration) {
    auto o = default_options();
    o.limits.max_recipients = 5;
    o.limits.max_transactions = 3;
    SessionDriver d(o);
    EXPECT_NE(d.cmd("EHLO c.example").find("250 LIMITS RCPTMAX=5 MAILMAX=3\r\n"),
              std::string::npos);
    // A value has at most six digits (RFC 9422 section 4): a larger limit is advertised as that.
    o.limits.max_recipients = 1000000;
    SessionDriver big(o);
    EXPECT_NE(big.cmd("EHLO c.example").find("LIMITS RCPTMAX=999999 MAILMAX=3\r\n"),
              std::string::npos);
    // HELO gets no extensions, so no LIMITS either.
    SessionDriver helo(o);
    EXPECT_EQ(helo.cmd("HELO c.example").find("LIMITS"), std::string::npos);
}

TEST(ServerSessionLimits, RcptBeyondRcptMaxGets452) {
    auto o = default_options();
    o.limits.max_recipients = 3;
    auto d = after_ehlo(o);
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.feed("RCPT TO:<b1@b.example>\r\nRCPT TO:<b2@b.example>\r\n"
                           "RCPT TO:<b3@b.example>\r\nRCPT TO:<b4@b.example>\r\n")),
              "250 2.1.5, 250 2.1.5, 250 2.1.5, 452 4.5.3");
}

TEST(ServerSessionLimits, MailBeyondMailMaxGets421AndClose) {
    auto o = default_options();
    o.limits.max_transactions = 3;
    auto d = after_ehlo(o);
    // Every MAIL counts, refused or not (RFC 9422 MAILMAX): one with bad syntax, one completed,
    // one reset.
    EXPECT_EQ(codes(d.cmd("MAIL FROM:bad")), "501 5.1.7");
    d.feed("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\nx\r\n.\r\n");
    EXPECT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RSET")), "250 2.0.0");
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example>"),
              "421 4.7.0 Too many transactions in this connection, closing connection\r\n");
    EXPECT_TRUE(d.session.closed());
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    EXPECT_EQ(d.checked_senders.size(), 2u);
}

TEST(ServerSessionLimits, MailMaxCountsAcrossStartTls) {
    auto o = default_options();
    o.limits.max_transactions = 1;
    o.starttls = true;
    auto d = after_ehlo(o);
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
    d.cmd("RSET");
    d.cmd("STARTTLS");
    d.cmd("EHLO client.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "421 4.7.0");
}

TEST(ServerSessionLimits, MailMaxAbortsAMessageBegunWithBdat) {
    auto o = default_options();
    o.limits.max_transactions = 1;
    auto d = after_ehlo(o);
    d.feed("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nBDAT 3\r\nabc");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "421 4.7.0");
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_TRUE(d.messages.empty());
}

// --- errors per session ------------------------------------------------------------------------

TEST(ServerSessionLimits, TooManyErrorsClosesTheSession) {
    auto o = default_options();
    o.limits.max_errors = 3;
    SessionDriver d(o);
    EXPECT_EQ(codes(d.cmd("FOO")), "500 5.5.2");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "503 5.5.1");
    EXPECT_EQ(d.cmd("BAR"),
              "500 5.5.2 Command not recognized\r\n"
              "421 4.7.0 Too many errors, closing connection\r\n");
    EXPECT_TRUE(d.session.closed());
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    EXPECT_EQ(d.cmd("NOOP"), "");
}

TEST(ServerSessionLimits, TooManyErrorsInOnePipelinedGroup) {
    auto o = default_options();
    o.limits.max_errors = 2;
    SessionDriver d(o);
    EXPECT_EQ(codes(d.feed("FOO\r\nNOOP\r\nBAR\r\nNOOP\r\nBAZ\r\n")),
              "500 5.5.2, 250 2.0.0, 500 5.5.2, 421 4.7.0");
    EXPECT_EQ(d.count(ActionKind::kClose), 1u);
}

TEST(ServerSessionLimits, RefusalsFromChecksCountAsErrors) {
    auto o = default_options();
    o.limits.max_errors = 2;
    auto d = after_ehlo(o);
    d.recipient_policy = [](const RcptCommand&) {
        return std::optional<Reply>(reply(ReplyName::kUnknownUser));
    };
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<x@b.example>")), "550 5.1.1");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<y@b.example>")), "550 5.1.1, 421 4.7.0");
    EXPECT_TRUE(d.session.closed());
}

TEST(ServerSessionLimits, TooManyErrorsAbortsAMessageInProgress) {
    auto o = default_options();
    o.limits.max_errors = 2;
    auto d = in_transaction(o);
    EXPECT_EQ(codes(d.feed("BDAT 5\r\nhello")), "250 2.0.0");
    d.cmd("FOO");
    EXPECT_EQ(codes(d.cmd("FOO")), "500 5.5.2, 421 4.7.0");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
}

TEST(ServerSessionLimits, ZeroMaxErrorsMeansNoLimit) {
    auto o = default_options();
    o.limits.max_errors = 0;
    SessionDriver d(o);
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(codes(d.cmd("FOO")), "500 5.5.2");
    EXPECT_FALSE(d.session.closed());
}

// --- AUTH response line -----------------------------------------------------------------------

SessionOptions login_options(std::size_t max_auth_line) {
    auto o = default_options();
    o.auth_mechanisms = {"LOGIN"};
    o.auth_needs_tls = false;
    o.limits.max_auth_line = max_auth_line;
    return o;
}

// Challenges once for every response, then accepts the second one.
void login_policy(SessionDriver& d) {
    d.auth_policy = [&d](ServerSession& s, const std::string&) {
        if (d.auth_steps.size() < 3) {
            s.auth_challenge("VXNlcm5hbWU6");
        } else {
            s.auth_succeeded("alice");
        }
    };
}

TEST(ServerSessionLimits, AuthLineTooLong) {
    auto d = after_ehlo(login_options(64));
    login_policy(d);
    EXPECT_EQ(d.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
    EXPECT_EQ(codes(d.cmd(std::string(63, 'A'))), "500 5.5.6");
    EXPECT_EQ(d.auth_steps.size(), 1u);
    // The exchange is over: the next line is a command again.
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
}

TEST(ServerSessionLimits, AuthLineAtTheLimit) {
    auto d = after_ehlo(login_options(64));
    login_policy(d);
    d.cmd("AUTH LOGIN");
    EXPECT_EQ(codes(d.cmd(std::string(62, 'A'))), "334");
    EXPECT_EQ(codes(d.cmd("cGFzcw==")), "235 2.7.0");
}

TEST(ServerSessionLimits, AuthLineMayExceedTheCommandLimit) {
    auto d = after_ehlo(login_options(12288));
    login_policy(d);
    d.cmd("AUTH LOGIN");
    std::string response(4000, 'Q');
    EXPECT_EQ(codes(d.cmd(response)), "334");
    ASSERT_EQ(d.auth_steps.size(), 2u);
    EXPECT_EQ(d.auth_steps[1], response);
}

TEST(ServerSessionLimits, AuthLineTooLongWithoutCrlf) {
    auto d = after_ehlo(login_options(64));
    login_policy(d);
    d.cmd("AUTH LOGIN");
    EXPECT_EQ(codes(d.feed(std::string(100, 'A'))), "500 5.5.6");
    EXPECT_EQ(d.feed(std::string(100, 'A') + "\r\n"), "");
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
    EXPECT_EQ(d.auth_steps.size(), 1u);
}

}  // namespace
}  // namespace tern::smtp::test
