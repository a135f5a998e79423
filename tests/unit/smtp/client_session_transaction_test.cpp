// Unit tests of ClientSession transactions (RFC 5321, 2920, 3030, 1870, 6152, 6531, 3461): the
// exact command bytes with and without PIPELINING and CHUNKING, SIZE, SMTPUTF8, 8BITMIME, DSN
// parameters, and per-recipient results of refusals and 421.
#include <gtest/gtest.h>

#include "client_driver.h"

namespace tern::smtp::test {
namespace {

// --- transactions -------------------------------------------------------------------------------

TEST(ClientSession, PipeliningSendsMailRcptsAndDataInOneBatch) {
    auto c = ready({"PIPELINING", "SIZE 10000"});
    EXPECT_EQ(c.send(message(kTwo)),
              "MAIL FROM:<alice@a.example> SIZE=1234\r\n"
              "RCPT TO:<bob@b.example>\r\n"
              "RCPT TO:<carol@c.example>\r\n"
              "DATA\r\n");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kCommand);
    EXPECT_EQ(c.server("250 2.1.0 ok\r\n"), "");
    EXPECT_EQ(c.server("250 2.1.5 ok\r\n250 2.1.5 ok\r\n"), "");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataReady);
    EXPECT_EQ(c.server("354 go ahead\r\n"), "<body>");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataEnd);
    EXPECT_EQ(c.server("250 2.0.0 queued as X\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 queued as X | 250 2.0.0 queued as X");
    EXPECT_TRUE(c.s.ready());
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kNothing);
}

TEST(ClientSession, WithoutPipeliningEachCommandWaitsForTheReplyBefore) {
    auto c = ready({"SIZE"});
    EXPECT_EQ(c.send(message(kTwo)), "MAIL FROM:<alice@a.example> SIZE=1234\r\n");
    EXPECT_EQ(c.server("250 2.1.0 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
    EXPECT_EQ(c.server("250 2.1.5 ok\r\n"), "RCPT TO:<carol@c.example>\r\n");
    EXPECT_EQ(c.server("550 5.1.1 no such user\r\n"), "DATA\r\n");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataReady);
    EXPECT_EQ(c.server("354 go ahead\r\n"), "<body>");
    EXPECT_EQ(c.server("250 2.0.0 queued\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 queued | 550 5.1.1 no such user");
}

TEST(ClientSession, PipeliningOfferedButDisabledByOptionIsLockStep) {
    ClientOptions o = plain();
    o.use_pipelining = false;
    auto c = ready({"PIPELINING"}, o);
    EXPECT_EQ(c.send(message(kTwo)), "MAIL FROM:<alice@a.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
}

TEST(ClientSession, ChunkingSendsOneBdatLastAfterTheRecipients) {
    auto c = ready({"PIPELINING", "CHUNKING"});
    EXPECT_EQ(c.send(message(kTwo)),
              "MAIL FROM:<alice@a.example>\r\n"
              "RCPT TO:<bob@b.example>\r\n"
              "RCPT TO:<carol@c.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n"), "");
    EXPECT_EQ(c.server("550 5.1.1 no\r\n"), "<body:BDAT 1234 LAST\r\n>");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataEnd);
    EXPECT_EQ(c.server("250 2.0.0 queued\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 queued | 550 5.1.1 no");
}

TEST(ClientSession, ChunkingWithoutPipeliningIsLockStep) {
    auto c = ready({"CHUNKING"});
    EXPECT_EQ(c.send(message()), "MAIL FROM:<alice@a.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "<body:BDAT 1234 LAST\r\n>");
    EXPECT_EQ(c.server("250 2.0.0 queued\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 queued");
}

TEST(ClientSession, ChunkingDisabledByOptionUsesData) {
    ClientOptions o = plain();
    o.use_chunking = false;
    auto c = ready({"PIPELINING", "CHUNKING"}, o);
    EXPECT_EQ(c.send(message()),
              "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\n");
}

TEST(ClientSession, ChunkingWithEveryRecipientRefusedSendsRsetNotBdat) {
    auto c = ready({"PIPELINING", "CHUNKING"});
    c.send(message());
    EXPECT_EQ(c.server("250 ok\r\n550 5.1.1 no\r\n"), "RSET\r\n");
    EXPECT_EQ(c.server("250 2.0.0 ok\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "550 5.1.1 no");
}

TEST(ClientSession, EmptySenderIsSentAsNullPath) {
    auto c = ready({});
    auto m = message();
    m.sender.clear();
    EXPECT_EQ(c.send(m), "MAIL FROM:<>\r\n");
}

TEST(ClientSession, MessageWithoutRecipientsIsDoneWithoutACommand) {
    auto c = ready({"PIPELINING"});
    EXPECT_EQ(c.send(message({})), "<done>");
    EXPECT_TRUE(c.s.result().empty());
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSession, SendMessageBeforeReadyIsIgnored) {
    Client c;
    EXPECT_EQ(c.send(message()), "");
    EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo({})), "<ready>");
}

TEST(ClientSession, SecondMessageOnTheSameConnection) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    c.server("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n354 go\r\n");
    EXPECT_EQ(c.server("250 2.0.0 first\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 first | 550 5.1.1 no");
    auto m = message({"erin@e.example"});
    m.sender = "frank@f.example";
    EXPECT_EQ(c.send(m), "MAIL FROM:<frank@f.example>\r\nRCPT TO:<erin@e.example>\r\nDATA\r\n");
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("250 2.0.0 second\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 second");
}

// --- SIZE, SMTPUTF8, 8BITMIME -------------------------------------------------------------------

TEST(ClientSession, SizeParameterIsSentOnlyWhenSizeIsOffered) {
    EXPECT_EQ(ready({"SIZE 2000"}).send(message()), "MAIL FROM:<alice@a.example> SIZE=1234\r\n");
    EXPECT_EQ(ready({}).send(message()), "MAIL FROM:<alice@a.example>\r\n");
}

TEST(ClientSession, MessageOverTheSizeLimitIsRefusedWithoutSendingAnything) {
    auto c = ready({"PIPELINING", "SIZE 1000"});
    EXPECT_EQ(c.send(message(kTwo)), "<done>");
    ASSERT_EQ(c.s.result().size(), 2u);
    for (const auto& r : c.s.result()) {
        EXPECT_EQ(r.code, 552);
        EXPECT_EQ(r.status, "5.3.4");
    }
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSession, MessageOfExactlyTheSizeLimitIsSent) {
    auto c = ready({"SIZE 1234"});
    EXPECT_EQ(c.send(message()), "MAIL FROM:<alice@a.example> SIZE=1234\r\n");
}

TEST(ClientSession, SizeWithoutALimitAcceptsAnySize) {
    auto c = ready({"SIZE"});
    auto m = message();
    m.size = 1'000'000'000;
    EXPECT_EQ(c.send(m), "MAIL FROM:<alice@a.example> SIZE=1000000000\r\n");
}

TEST(ClientSession, Smtputf8MessageToAServerWithoutSmtputf8IsRefused) {
    auto c = ready({"PIPELINING", "8BITMIME"});
    auto m = message(kTwo);
    m.smtputf8 = true;
    EXPECT_EQ(c.send(m), "<done>");
    ASSERT_EQ(c.s.result().size(), 2u);
    for (const auto& r : c.s.result()) {
        EXPECT_EQ(r.code, 553);
        EXPECT_EQ(r.status, "5.6.7");
    }
}

TEST(ClientSession, Smtputf8MessageToAnSmtputf8ServerCarriesTheParameter) {
    auto c = ready({"SMTPUTF8", "8BITMIME"});
    auto m = message();
    m.smtputf8 = true;
    EXPECT_EQ(c.send(m), "MAIL FROM:<alice@a.example> SMTPUTF8\r\n");
}

TEST(ClientSession, EightBitMessageToAServerWithout8BitMimeIsRefused) {
    auto c = ready({"PIPELINING"});
    auto m = message();
    m.eight_bit = true;
    m.body = BodyType::k8BitMime;
    EXPECT_EQ(c.send(m), "<done>");
    ASSERT_EQ(c.s.result().size(), 1u);
    EXPECT_EQ(c.s.result()[0].code, 554);
    EXPECT_EQ(c.s.result()[0].status, "5.6.3");
}

TEST(ClientSession, DeclaredEightBitBodyCarriesBodyParameterWhenOffered) {
    auto c = ready({"8BITMIME"});
    auto m = message();
    m.eight_bit = true;
    m.body = BodyType::k8BitMime;
    EXPECT_EQ(c.send(m), "MAIL FROM:<alice@a.example> BODY=8BITMIME\r\n");
}

TEST(ClientSession, SevenBitTextDeclared8BitMimeGoesToAServerWithout8BitMime) {
    auto c = ready({});
    auto m = message();
    m.body = BodyType::k8BitMime;
    EXPECT_EQ(c.send(m), "MAIL FROM:<alice@a.example>\r\n");
}

TEST(ClientSession, MailParametersComeInOneFixedOrder) {
    auto c = ready({"SIZE", "8BITMIME", "SMTPUTF8", "DSN"});
    auto m = message();
    m.body = BodyType::k8BitMime;
    m.smtputf8 = true;
    m.ret = DsnRet::kFull;
    m.envid = "e1";
    EXPECT_EQ(c.send(m),
              "MAIL FROM:<alice@a.example> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=e1\r\n");
}

// --- DSN ----------------------------------------------------------------------------------------

OutboundMessage dsn_message() {
    auto m = message(kTwo);
    m.ret = DsnRet::kHeaders;
    m.envid = "id=1 x+y";
    m.recipients[0].notify.success = true;
    m.recipients[0].notify.failure = true;
    m.recipients[0].orcpt = "rfc822;bob+tag@b.example";
    m.recipients[1].notify.never = true;
    return m;
}

TEST(ClientSession, DsnParametersAreSentWhenDsnIsOffered) {
    auto c = ready({"PIPELINING", "DSN"});
    EXPECT_EQ(c.send(dsn_message()),
              "MAIL FROM:<alice@a.example> RET=HDRS ENVID=id+3D1+20x+2By\r\n"
              "RCPT TO:<bob@b.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Btag@b.example\r\n"
              "RCPT TO:<carol@c.example> NOTIFY=NEVER\r\n"
              "DATA\r\n");
}

TEST(ClientSession, DsnParametersAreLeftOutWhenDsnIsNotOffered) {
    auto c = ready({"PIPELINING"});
    EXPECT_EQ(c.send(dsn_message()),
              "MAIL FROM:<alice@a.example>\r\n"
              "RCPT TO:<bob@b.example>\r\n"
              "RCPT TO:<carol@c.example>\r\n"
              "DATA\r\n");
}

TEST(ClientSession, DsnParametersInLockStepRcpts) {
    auto c = ready({"DSN"});
    EXPECT_EQ(c.send(dsn_message()),
              "MAIL FROM:<alice@a.example> RET=HDRS ENVID=id+3D1+20x+2By\r\n");
    EXPECT_EQ(
        c.server("250 ok\r\n"),
        "RCPT TO:<bob@b.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Btag@b.example\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<carol@c.example> NOTIFY=NEVER\r\n");
}

// --- refusals -----------------------------------------------------------------------------------

TEST(ClientSession, MixedRecipientRepliesArePerRecipient) {
    auto c = ready({"PIPELINING", "ENHANCEDSTATUSCODES"});
    c.send(message(kThree));
    EXPECT_EQ(c.server("250 2.1.0 ok\r\n250 2.1.5 ok\r\n450 4.2.0 busy\r\n550 5.1.1 unknown\r\n"
                       "354 go ahead\r\n"),
              "<body>");
    EXPECT_EQ(c.server("250 2.0.0 queued as X\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 queued as X | 450 4.2.0 busy | 550 5.1.1 unknown");
}

TEST(ClientSession, RefusedMailGivesItsReplyToEveryRecipientWhenPipelined) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("550 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n"
                       "503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n"),
              "<done>");
    EXPECT_EQ(results(c.s), "550 5.7.1 sender rejected | 550 5.7.1 sender rejected");
    EXPECT_EQ(c.s.failure_stage(), "MAIL FROM");
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSession, RefusedMailSendsNoRecipientsInLockStep) {
    auto c = ready({});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("451 4.3.0 try later\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "451 4.3.0 try later | 451 4.3.0 try later");
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSession, EveryRecipientRefusedPipelinedEndsWithRset) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("250 ok\r\n550 5.1.1 no bob\r\n550 5.1.1 no carol\r\n"
                       "554 5.5.1 no valid recipients\r\n"),
              "RSET\r\n");
    EXPECT_EQ(c.server("250 2.0.0 ok\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "550 5.1.1 no bob | 550 5.1.1 no carol");
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSession, EveryRecipientRefusedInLockStepSendsRsetNotData) {
    auto c = ready({});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
    EXPECT_EQ(c.server("550 5.1.1 no bob\r\n"), "RCPT TO:<carol@c.example>\r\n");
    EXPECT_EQ(c.server("450 4.2.1 later\r\n"), "RSET\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "550 5.1.1 no bob | 450 4.2.1 later");
}

TEST(ClientSession, RefusedRsetAfterATransactionFailsTheSession) {
    auto c = ready({});
    c.send(message());
    c.server("250 ok\r\n");
    EXPECT_EQ(c.server("550 5.1.1 no\r\n"), "RSET\r\n");
    EXPECT_EQ(c.server("500 5.5.2 what\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 500, "5.5.2", "RSET");
}

TEST(ClientSession, DataRefusedGivesItsReplyToTheAcceptedRecipients) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n451 4.3.0 not now\r\n"), "RSET\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "451 4.3.0 not now | 550 5.1.1 no");
}

TEST(ClientSession, Reply354WithNobodyAcceptedSendsAnEmptyMessageAndRset) {
    // RFC 2920 section 3.1: a server may answer the pipelined DATA with 354 although every RCPT
    // failed; the client then ends the data at once.
    auto c = ready({"PIPELINING"});
    c.send(message());
    EXPECT_EQ(c.server("250 ok\r\n550 5.1.1 no\r\n354 go ahead\r\n"), ".\r\n");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataEnd);
    EXPECT_EQ(c.server("554 5.5.1 no valid recipients\r\n"), "RSET\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "550 5.1.1 no");
}

TEST(ClientSession, EndOfDataRefusalGoesToTheAcceptedRecipients) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n450 4.2.0 later\r\n354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("554 5.7.1 spam\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "554 5.7.1 spam | 450 4.2.0 later");
    EXPECT_TRUE(c.s.ready());
}

// BUG (client_session.cpp, Expect::kData): a reply to DATA other than 354 is taken as the final
// answer, and a 2xx one leaves the accepted recipients "delivered" although no message text was
// ever sent. RFC 5321 section 4.3.2 gives DATA the sequence "I: 354 -> data -> S: 250" and
// otherwise only failures (552, 554, 451, 452, 450, 550, 503); a 250 to DATA is a protocol error.
// Input: pipelined MAIL 250, RCPT 250, DATA "250 2.0.0 ok". Expected: no recipient positive;
// actual: result "250 2.0.0 ok" (smtp_transport.cpp counts it delivered) and an RSET is sent.
TEST(ClientSession, Reply250ToDataIsNotADelivery) {
    auto c = ready({"PIPELINING"});
    c.send(message());
    std::string out = c.server("250 ok\r\n250 ok\r\n250 2.0.0 ok\r\n");
    EXPECT_EQ(out.find("<body>"), std::string::npos);
    ASSERT_EQ(c.s.result().size(), 1u);
    EXPECT_FALSE(c.s.result()[0].positive()) << results(c.s);
}

// --- 421 ----------------------------------------------------------------------------------------

TEST(ClientSession, Reply421MidTransactionEndsItAndTheSession) {
    auto c = ready({"PIPELINING"});
    c.send(message(kThree));
    EXPECT_EQ(c.server("250 ok\r\n250 2.1.5 ok\r\n421 4.3.2 shutting down\r\n"), "<done><failed>");
    EXPECT_EQ(results(c.s),
              "421 4.3.2 shutting down | 421 4.3.2 shutting down | 421 4.3.2 shutting down");
    expect_failure(c, 421, "4.3.2", "reply");
    EXPECT_EQ(c.server("250 late\r\n"), "");
}

TEST(ClientSession, Reply421ToPipelinedMailEndsTheTransactionAndTheSession) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("421 4.3.2 bye\r\n"), "<done><failed>");
    EXPECT_EQ(results(c.s), "421 4.3.2 bye | 421 4.3.2 bye");
    expect_failure(c, 421, "4.3.2", "reply");
}

// BUG (client_session.cpp, Expect::kMail): without pipelining, a refused MAIL returns through
// finish_transaction() before the 421 check, so a 421 to MAIL ends the transaction but leaves the
// session ready: the driver would start the next message on a channel the server is closing
// (RFC 5321 section 3.8). Input: lock-step MAIL answered "421 4.3.2 bye". Expected
// "<done><failed>" and failed(); actual "<done>" and ready().
TEST(ClientSession, Reply421ToLockStepMailEndsTheTransactionAndTheSession) {
    auto c = ready({});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("421 4.3.2 bye\r\n"), "<done><failed>");
    EXPECT_EQ(results(c.s), "421 4.3.2 bye | 421 4.3.2 bye");
    expect_failure(c, 421, "4.3.2", "reply");
}

TEST(ClientSession, Reply421AtEndOfDataIsTheResult) {
    auto c = ready({"PIPELINING"});
    c.send(message());
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("421 4.4.2 timeout\r\n"), "<done><failed>");
    EXPECT_EQ(results(c.s), "421 4.4.2 timeout");
    EXPECT_TRUE(c.s.failed());
}

// BUG (client_session.cpp, on_transaction_reply): a 421 to a lock-step RCPT first sends the next
// RCPT (or DATA, or RSET) and only then ends the session, so a command goes to a server that has
// said it is closing the channel (RFC 5321 section 3.8: the server "MUST ... close" after 421).
// Input: MAIL 250, then "421 4.3.2 bye" to the first of two RCPTs. Expected "<done><failed>";
// actual "RCPT TO:<carol@c.example>\r\n<done><failed>".
TEST(ClientSession, Reply421ToALockStepRcptSendsNoMoreCommands) {
    auto c = ready({});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
    EXPECT_EQ(c.server("421 4.3.2 bye\r\n"), "<done><failed>");
    EXPECT_EQ(results(c.s), "421 4.3.2 bye | 421 4.3.2 bye");
}

}  // namespace
}  // namespace tern::smtp::test
