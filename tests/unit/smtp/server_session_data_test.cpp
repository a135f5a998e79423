// Unit tests of message transfer in ServerSession: DATA (dot-stuffing, the end marker), BDAT
// chunks, and PIPELINING, including the same dialog split at every octet.
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

// --- DATA --------------------------------------------------------------------------------------

TEST(ServerSessionData, DotUnstuffing) {
    auto d = in_data();
    EXPECT_EQ(codes(d.feed("..x\r\n...\r\n. \r\nplain.\r\n.\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], ".x\r\n..\r\n \r\nplain.\r\n");
}

TEST(ServerSessionData, EmptyMessage) {
    auto d = in_data();
    EXPECT_EQ(codes(d.feed(".\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "");
}

TEST(ServerSessionData, EndsOnlyAtCrlfDotCrlf) {
    auto d = in_data();
    EXPECT_EQ(d.feed("a\r\n.x\r\n. \r\n\r\n..\r\nb.\r\n"), "");
    EXPECT_EQ(d.feed("x.\r\n"), "");
    EXPECT_EQ(codes(d.feed(".\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "a\r\nx\r\n \r\n\r\n.\r\nb.\r\nx.\r\n");
}

TEST(ServerSessionData, BodyBytesDeliveredExactly) {
    std::string body;
    for (int line = 0; line < 20; ++line) {
        for (int c = 0; c < 256; ++c)
            if (c != '\r' && c != '\n' && (c + line) % 3 == 0) body += static_cast<char>(c);
        body += "\r\n";
    }
    body += std::string(1, '\0') + "\xFF\xFE\r\n";
    // Every octet value, NUL too when NUL octets are accepted (they are refused by default:
    // server_session_defence_test.cpp).
    auto o = default_options();
    o.limits.nul_octets = NulOctets::kAccept;
    auto d = in_data(o);
    EXPECT_EQ(codes(d.feed(body + ".\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], body);
}

TEST(ServerSessionData, LargeBodyIsStreamedInPieces) {
    std::string body;
    for (int i = 0; body.size() < 300 * 1024; ++i)
        body += "line " + std::to_string(i) + "\r\n";
    auto d = in_data();
    EXPECT_EQ(codes(d.feed_in_pieces(body + ".\r\n", 4096)), "250 2.0.0");
    EXPECT_GT(d.count(ActionKind::kBodyData), 2u);
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], body);
}

TEST(ServerSessionData, CommandsAfterTheEndWaitForTheCommit) {
    auto d = in_data();
    d.commit_policy = [] { return std::optional<Reply>(); };
    EXPECT_EQ(d.feed("x\r\n.\r\nNOOP\r\nMAIL FROM:<c@a.example>\r\n"), "");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 1u);
    EXPECT_EQ(d.checked_senders.size(), 1u);
    d.session.message_committed(reply(ReplyName::kQueued, "Ok: queued as Q1"));
    d.pump();
    EXPECT_EQ(d.sent.substr(d.sent.find("250 2.0.0 Ok: queued as Q1")),
              "250 2.0.0 Ok: queued as Q1\r\n250 2.0.0 Ok\r\n250 2.1.0 Sender ok\r\n");
    EXPECT_EQ(d.checked_senders.size(), 2u);
}

TEST(ServerSessionData, CommitRefusalIsPassedOn) {
    auto d = in_data();
    d.commit_policy = [] { return std::optional<Reply>(reply(ReplyName::kNoSpace)); };
    EXPECT_EQ(d.feed("x\r\n.\r\n"), "452 4.3.1 Insufficient system storage, try again later\r\n");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
}

// The session reads on past kBeginMessage without waiting; the envelope the driver reads for that
// action must still be the message's, even when the same read already refused the message.
TEST(ServerSessionData, EnvelopeStaysWholeForARefusedPipelinedMessage) {
    auto d = after_ehlo(options_with(BareLf::kReject));
    d.feed("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\nbare\nLF\r\n.\r\n");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].sender.str(), "<a@a.example>");
    ASSERT_EQ(d.envelopes[0].recipients.size(), 1u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    // The next transaction starts with a clean envelope all the same.
    d.feed("MAIL FROM:<c@a.example>\r\nRCPT TO:<d@b.example>\r\nDATA\r\n");
    ASSERT_EQ(d.envelopes.size(), 2u);
    EXPECT_EQ(d.envelopes[1].sender.str(), "<c@a.example>");
    ASSERT_EQ(d.envelopes[1].recipients.size(), 1u);
    EXPECT_EQ(d.envelopes[1].recipients[0].path.str(), "<d@b.example>");
}

TEST(ServerSessionBdat, EnvelopeStaysWholeWhenPipelinedRsetAborts) {
    auto d = after_ehlo();
    d.feed("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nBDAT 3\r\nabcRSET\r\n");
    ASSERT_EQ(d.envelopes.size(), 1u);
    ASSERT_EQ(d.envelopes[0].recipients.size(), 1u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
}

// --- BDAT --------------------------------------------------------------------------------------

TEST(ServerSessionBdat, Chunks) {
    auto d = in_transaction();
    EXPECT_EQ(d.feed("BDAT 5\r\nhello"), "250 2.0.0 Ok: 5 octets received\r\n");
    EXPECT_EQ(d.feed("BDAT 6 LAST\r\n world"), "250 2.0.0 Ok: queued as X\r\n");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "hello world");
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 1u);
}

TEST(ServerSessionBdat, ChunkBytesAreTakenVerbatim) {
    // In either bare LF mode: BDAT octets are counted, never scanned (docs/protocol.md).
    const std::string chunk = "a\nb\rc\r\n.\r\n..d\r\nQUIT\r\n";
    for (BareLf mode : {BareLf::kNormalize, BareLf::kReject}) {
        auto o = default_options();
        o.limits.bare_lf = mode;
        auto d = in_transaction(o);
        EXPECT_EQ(codes(d.feed("BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk)),
                  "250 2.0.0");
        ASSERT_EQ(d.messages.size(), 1u);
        EXPECT_EQ(d.messages[0], chunk);
        EXPECT_FALSE(d.session.closed());
    }
}

TEST(ServerSessionBdat, ZeroLastEndsTheMessage) {
    auto d = in_transaction();
    EXPECT_EQ(codes(d.feed("BDAT 3\r\nabc")), "250 2.0.0");
    EXPECT_EQ(codes(d.feed("BDAT 0 LAST\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "abc");
}

TEST(ServerSessionBdat, ZeroLastAlone) {
    auto d = in_transaction();
    EXPECT_EQ(d.feed("BDAT 0 LAST\r\n"), "250 2.0.0 Ok: queued as X\r\n");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "");
}

TEST(ServerSessionBdat, LastIsCaseInsensitive) {
    auto d = in_transaction();
    EXPECT_EQ(d.feed("bdat 2 last\r\nhi"), "250 2.0.0 Ok: queued as X\r\n");
}

TEST(ServerSessionBdat, ChunkSplitAcrossReadsWithCommandsAfter) {
    auto d = in_transaction();
    EXPECT_EQ(d.feed("BDAT 10 LAST\r\n0123"), "");
    EXPECT_EQ(d.feed("45"), "");
    EXPECT_EQ(codes(d.feed("6789NOOP\r\n")), "250 2.0.0, 250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "0123456789");
}

TEST(ServerSessionBdat, WithoutMailConsumesTheChunk) {
    auto d = after_ehlo();
    const std::string chunk = "MAIL FROM:<evil@x.example>\r\nQUIT\r\n";
    EXPECT_EQ(d.feed("BDAT " + std::to_string(chunk.size()) + "\r\n" + chunk),
              "503 5.5.1 Need MAIL command first\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
    EXPECT_FALSE(d.session.closed());
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
}

TEST(ServerSessionBdat, BeforeRcptConsumesTheChunk) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.feed("BDAT 6 LAST\r\nQUIT\r\n")), "503 5.5.1");
    EXPECT_FALSE(d.session.closed());
}

TEST(ServerSessionBdat, AllRecipientsRefused) {
    auto d = after_ehlo();
    d.recipient_policy = [](const RcptCommand&) {
        return std::optional<Reply>(reply(ReplyName::kUnknownUser));
    };
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    EXPECT_EQ(codes(d.feed("BDAT 3 LAST\r\nabc")), "554 5.5.1");
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
}

TEST(ServerSessionBdat, BeforeHeloConsumesTheChunk) {
    SessionDriver d;
    EXPECT_EQ(codes(d.feed("BDAT 6\r\nQUIT\r\n")), "503 5.5.1");
    EXPECT_FALSE(d.session.closed());
}

TEST(ServerSessionBdat, AfterHeloIsNotImplemented) {
    SessionDriver d;
    d.cmd("HELO client.example");
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    EXPECT_EQ(codes(d.feed("BDAT 6 LAST\r\nQUIT\r\n")), "502 5.5.1");
    EXPECT_FALSE(d.session.closed());
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
    EXPECT_EQ(codes(d.cmd("DATA")), "354");  // the transaction is still there for DATA
}

TEST(ServerSessionBdat, NotImplementedWithoutChunking) {
    auto o = default_options();
    o.chunking = false;
    auto d = in_transaction(o);
    EXPECT_EQ(codes(d.feed("BDAT 4 LAST\r\nQUIT")), "502 5.5.1");
    EXPECT_FALSE(d.session.closed());
}

TEST(ServerSessionBdat, SyntaxErrors) {
    auto d = in_transaction();
    for (std::string_view bad : {"BDAT", "BDAT x", "BDAT -1", "BDAT 5 MORE", "BDAT 5  LAST",
                                 "BDAT 99999999999999999999999"})
        EXPECT_EQ(codes(d.cmd(bad)), "501 5.5.4") << bad;
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
}

TEST(ServerSessionBdat, DataAfterBdatIsRefused) {
    auto d = in_transaction();
    d.feed("BDAT 3\r\nabc");
    EXPECT_EQ(d.cmd("DATA"), "503 5.5.1 DATA and BDAT cannot be mixed in one transaction\r\n");
    // The BDAT transaction can still be finished.
    EXPECT_EQ(codes(d.feed("BDAT 3 LAST\r\ndef")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "abcdef");
}

TEST(ServerSessionBdat, RcptAfterBdatIsRefused) {
    auto d = in_transaction();
    d.feed("BDAT 3\r\nabc");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<c@b.example>")), "503 5.5.1");
    EXPECT_EQ(d.checked_recipients.size(), 1u);
}

TEST(ServerSessionBdat, RsetAbortsTheMessage) {
    auto d = in_transaction();
    d.feed("BDAT 3\r\nabc");
    EXPECT_EQ(codes(d.cmd("RSET")), "250 2.0.0");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(codes(d.feed("BDAT 3 LAST\r\ndef")), "503 5.5.1");
    EXPECT_TRUE(d.messages.empty());
}

TEST(ServerSessionBdat, EhloAbortsTheMessage) {
    auto d = in_transaction();
    d.feed("BDAT 3\r\nabc");
    d.cmd("EHLO client.example");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
}

TEST(ServerSessionBdat, QuitAbortsTheMessage) {
    auto d = in_transaction();
    d.feed("BDAT 3\r\nabc");
    EXPECT_EQ(codes(d.cmd("QUIT")), "221 2.0.0");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
}

TEST(ServerSessionBdat, TwoMessagesWithBdat) {
    auto d = in_transaction();
    d.feed("BDAT 1 LAST\r\n1");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.feed("BDAT 1 LAST\r\n2")), "250 2.0.0");
    EXPECT_EQ(d.messages, (std::vector<std::string>{"1", "2"}));
}

// --- PIPELINING --------------------------------------------------------------------------------

TEST(ServerSessionPipelining, ManyCommandsInOneRead) {
    SessionDriver d;
    d.recipient_policy = [](const RcptCommand& r) {
        if (r.recipient.mailbox.local == "nobody")
            return std::optional<Reply>(reply(ReplyName::kUnknownUser));
        return std::optional<Reply>(reply(ReplyName::kRecipientOk));
    };
    EXPECT_EQ(
        codes(d.feed("EHLO client.example\r\nMAIL FROM:<a@a.example>\r\n"
                     "RCPT TO:<b@b.example>\r\nRCPT TO:<bad>\r\nRCPT TO:<nobody@b.example>\r\n"
                     "RCPT TO:<c@b.example>\r\nNOOP\r\nDATA\r\n")),
        "250, 250 2.1.0, 250 2.1.5, 553 5.1.3, 550 5.1.1, 250 2.1.5, 250 2.0.0, 354");
    EXPECT_EQ(d.checked_recipients,
              (std::vector<std::string>{"<b@b.example>", "<nobody@b.example>", "<c@b.example>"}));
}

TEST(ServerSessionPipelining, RepliesWaitForPendingChecks) {
    auto d = after_ehlo();
    d.sender_policy = [](const MailCommand&) { return std::optional<Reply>(); };
    d.recipient_policy = [](const RcptCommand&) { return std::optional<Reply>(); };
    EXPECT_EQ(d.feed("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nNOOP\r\n"), "");
    EXPECT_EQ(d.checked_recipients.size(), 0u);  // RCPT is not read before MAIL is answered
    EXPECT_FALSE(d.session.wants_input());

    d.session.sender_checked(reply(ReplyName::kSenderOk));
    d.pump();
    EXPECT_EQ(codes(d.sent.substr(d.sent.rfind("250 2.1.0"))), "250 2.1.0");
    EXPECT_EQ(d.checked_recipients.size(), 1u);

    std::size_t before = d.sent.size();
    d.session.recipient_checked(reply(ReplyName::kRecipientOk));
    d.pump();
    EXPECT_EQ(codes(d.sent.substr(before)), "250 2.1.5, 250 2.0.0");
    EXPECT_TRUE(d.session.wants_input());
}

TEST(ServerSessionPipelining, AnswersToQuestionsNotAskedAreIgnored) {
    auto d = after_ehlo();
    d.session.sender_checked(reply(ReplyName::kSenderOk));
    d.session.recipient_checked(reply(ReplyName::kRecipientOk));
    d.session.message_committed(reply(ReplyName::kQueued));
    d.session.tls_started(true);
    d.session.auth_succeeded("mallory");
    d.pump();
    EXPECT_EQ(codes(d.sent), "220, 250");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
    EXPECT_EQ(d.session.authenticated_user(), "");
}

// One full dialog: two transactions, DATA with dot-stuffing, then BDAT chunks.
const std::string kFullDialog =
    "EHLO client.example\r\n"
    "MAIL FROM:<alice@a.example> SIZE=200\r\n"
    "RCPT TO:<bob@b.example>\r\n"
    "RCPT TO:<carol@b.example> NOTIFY=SUCCESS\r\n"
    "RCPT TO:<dave@c.example>\r\n"
    "DATA\r\n"
    "Subject: test\r\n"
    "\r\n"
    "..leading dot\r\n"
    "...two dots\r\n"
    ".\r\n"
    "MAIL FROM:<>\r\n"
    "RCPT TO:<postmaster>\r\n"
    "BDAT 11\r\n"
    "first\r\n.\r\nx"
    "BDAT 9\r\n"
    "second\r\nQ"
    "BDAT 5 LAST\r\n"
    "third"
    "QUIT\r\n";

const std::string kFullDialogBody1 = "Subject: test\r\n\r\n.leading dot\r\n..two dots\r\n";
const std::string kFullDialogBody2 = "first\r\n.\r\nxsecond\r\nQthird";

struct Outcome {
    std::string sent;
    std::vector<std::string> messages;
    std::vector<ActionKind> questions;  // every action but kSend and kBodyData, in order
    std::vector<std::string> recipients;
};

Outcome outcome(const SessionDriver& d) {
    Outcome o{d.sent, d.messages, {}, d.checked_recipients};
    for (auto k : d.actions)
        if (k != ActionKind::kSend && k != ActionKind::kBodyData) o.questions.push_back(k);
    return o;
}

void expect_same(const Outcome& a, const Outcome& b, const std::string& label) {
    EXPECT_EQ(a.sent, b.sent) << label;
    EXPECT_EQ(a.messages, b.messages) << label;
    EXPECT_EQ(a.questions, b.questions) << label;
    EXPECT_EQ(a.recipients, b.recipients) << label;
}

TEST(ServerSessionPipelining, FullDialogInOneRead) {
    SessionDriver d;
    d.feed(kFullDialog);
    EXPECT_EQ(codes(d.sent),
              "220, 250, 250 2.1.0, 250 2.1.5, 250 2.1.5, 250 2.1.5, 354, 250 2.0.0, "
              "250 2.1.0, 250 2.1.5, 250 2.0.0, 250 2.0.0, 250 2.0.0, 221 2.0.0");
    EXPECT_EQ(d.messages, (std::vector<std::string>{kFullDialogBody1, kFullDialogBody2}));
    EXPECT_TRUE(d.session.closed());
}

TEST(ServerSessionPipelining, FullDialogSplitAtEveryOctet) {
    SessionDriver whole;
    whole.feed(kFullDialog);
    Outcome expected = outcome(whole);
    for (std::size_t cut = 0; cut <= kFullDialog.size(); ++cut) {
        SessionDriver d;
        d.feed(std::string_view(kFullDialog).substr(0, cut));
        d.feed(std::string_view(kFullDialog).substr(cut));
        expect_same(outcome(d), expected, "cut at " + std::to_string(cut));
        if (::testing::Test::HasFailure()) break;
    }
}

TEST(ServerSessionPipelining, FullDialogOneOctetAtATime) {
    SessionDriver whole;
    whole.feed(kFullDialog);
    SessionDriver d;
    d.feed_in_pieces(kFullDialog, 1);
    expect_same(outcome(d), outcome(whole), "one octet at a time");
}

TEST(ServerSessionPipelining, FullDialogInThreePieces) {
    SessionDriver whole;
    whole.feed(kFullDialog);
    Outcome expected = outcome(whole);
    for (std::size_t a = 0; a <= kFullDialog.size(); a += 7) {
        for (std::size_t b = a; b <= kFullDialog.size(); b += 5) {
            SessionDriver d;
            d.feed(std::string_view(kFullDialog).substr(0, a));
            d.feed(std::string_view(kFullDialog).substr(a, b - a));
            d.feed(std::string_view(kFullDialog).substr(b));
            expect_same(outcome(d), expected,
                        "cuts " + std::to_string(a) + "," + std::to_string(b));
            if (::testing::Test::HasFailure()) return;
        }
    }
}

}  // namespace
}  // namespace tern::smtp::test
