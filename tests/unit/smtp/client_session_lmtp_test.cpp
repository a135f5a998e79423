// Unit tests of ClientSession in LMTP mode (RFC 2033): LHLO without a HELO fallback, and one
// reply per accepted recipient after DATA or BDAT LAST, each recipient keeping its own.
#include <gtest/gtest.h>

#include "client_driver.h"

namespace tern::smtp::test {
namespace {

ClientOptions lmtp() {
    ClientOptions o = plain();
    o.lmtp = true;
    return o;
}

Client lmtp_ready(const std::vector<std::string>& keywords) {
    Client c(lmtp());
    EXPECT_EQ(c.server("220 dovecot LMTP ready\r\n"), "LHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo(keywords)), "<ready>");
    return c;
}

TEST(ClientSessionLmtp, GreetsWithLhlo) {
    auto c = lmtp_ready({"PIPELINING", "ENHANCEDSTATUSCODES"});
    EXPECT_TRUE(c.s.capabilities().pipelining);
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSessionLmtp, RefusedLhloFailsWithoutTryingHelo) {
    Client c(lmtp());
    EXPECT_EQ(c.server("220 ready\r\n"), "LHLO client.example\r\n");
    EXPECT_EQ(c.server("500 5.5.1 unknown command\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 500, "5.5.1", "LHLO");
}

TEST(ClientSessionLmtp, EachAcceptedRecipientGetsItsOwnReplyAfterData) {
    auto c = lmtp_ready({"PIPELINING"});
    EXPECT_EQ(c.send(message(kThree)),
              "MAIL FROM:<alice@a.example>\r\n"
              "RCPT TO:<bob@b.example>\r\n"
              "RCPT TO:<carol@c.example>\r\n"
              "RCPT TO:<dave@d.example>\r\n"
              "DATA\r\n");
    EXPECT_EQ(c.server("250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n"
                       "250 2.1.5 ok\r\n"),
              "");
    EXPECT_EQ(c.server("354 go ahead\r\n"), "<body>");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataEnd);
    // Two replies owed (bob, dave); the first alone does not end the transaction.
    EXPECT_EQ(c.server("250 2.0.0 <bob@b.example> saved\r\n"), "");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kDataEnd);
    EXPECT_EQ(c.server("452 4.2.2 <dave@d.example> quota exceeded\r\n"), "<done>");
    EXPECT_EQ(results(c.s),
              "250 2.0.0 <bob@b.example> saved | 550 5.1.1 no such user | "
              "452 4.2.2 <dave@d.example> quota exceeded");
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSessionLmtp, RepliesArrivingTogetherAreAllTaken) {
    auto c = lmtp_ready({"PIPELINING"});
    c.send(message(kTwo));
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("250 2.0.0 one\r\n550 5.2.0 two\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 one | 550 5.2.0 two");
}

TEST(ClientSessionLmtp, BdatLastIsAnsweredPerRecipient) {
    auto c = lmtp_ready({"PIPELINING", "CHUNKING"});
    EXPECT_EQ(c.send(message(kTwo)),
              "MAIL FROM:<alice@a.example>\r\n"
              "RCPT TO:<bob@b.example>\r\n"
              "RCPT TO:<carol@c.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n250 ok\r\n"), "<body:BDAT 1234 LAST\r\n>");
    EXPECT_EQ(c.server("250 2.0.0 bob saved\r\n"), "");
    EXPECT_EQ(c.server("250 2.0.0 carol saved\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 bob saved | 250 2.0.0 carol saved");
}

TEST(ClientSessionLmtp, WithoutPipeliningTheSameReplies) {
    auto c = lmtp_ready({});
    EXPECT_EQ(c.send(message(kTwo)), "MAIL FROM:<alice@a.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<carol@c.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "DATA\r\n");
    EXPECT_EQ(c.server("354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("451 4.3.0 temporary\r\n"), "");
    EXPECT_EQ(c.server("250 2.0.0 saved\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "451 4.3.0 temporary | 250 2.0.0 saved");
}

TEST(ClientSessionLmtp, A421AfterSomeRepliesLeavesTheAnsweredOnes) {
    auto c = lmtp_ready({"PIPELINING"});
    c.send(message(kThree));
    c.server("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    EXPECT_EQ(c.server("250 2.0.0 bob saved\r\n"), "");
    EXPECT_EQ(c.server("421 4.3.2 shutting down\r\n"), "<done><failed>");
    // bob was delivered and must not be tried again; carol and dave were not.
    EXPECT_EQ(results(c.s),
              "250 2.0.0 bob saved | 421 4.3.2 shutting down | 421 4.3.2 shutting down");
    EXPECT_TRUE(c.s.answered_after_data(0));
    EXPECT_FALSE(c.s.answered_after_data(1));
    EXPECT_FALSE(c.s.answered_after_data(2));
}

TEST(ClientSessionLmtp, ARcptAnsweredWith3xxIsNotAcceptedAndOwedNothing) {
    auto c = lmtp_ready({"PIPELINING"});
    c.send(message(kThree));
    // carol's 354 is no acceptance: only bob and dave are owed a reply after the data, and
    // dave's reply is dave's, not carol's.
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n354 what\r\n250 ok\r\n354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("250 2.0.0 bob saved\r\n"), "");
    EXPECT_EQ(c.server("250 2.0.0 dave saved\r\n"), "<done>");
    EXPECT_EQ(results(c.s),
              "250 2.0.0 bob saved | 451 4.5.0 unexpected reply to RCPT TO: 354 what | "
              "250 2.0.0 dave saved");
    EXPECT_FALSE(c.s.answered_after_data(1));
    EXPECT_TRUE(c.s.answered_after_data(2));
}

TEST(ClientSessionLmtp, NobodyAcceptedAndDataRefusedEndsTheTransaction) {
    auto c = lmtp_ready({"PIPELINING"});
    c.send(message(kTwo));
    // RFC 2033 4.2: DATA without a successful RCPT gets 503; RSET clears the transaction.
    EXPECT_EQ(
        c.server("250 ok\r\n550 5.1.1 no\r\n550 5.1.1 no\r\n503 5.5.1 no valid recipients\r\n"),
        "RSET\r\n");
    EXPECT_EQ(c.server("250 2.0.0 ok\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "550 5.1.1 no | 550 5.1.1 no");
    EXPECT_FALSE(c.s.answered_after_data(0));
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSessionLmtp, NextTransactionOwesRepliesAfresh) {
    auto c = lmtp_ready({"PIPELINING"});
    c.send(message(kTwo));
    c.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    EXPECT_EQ(c.server("250 a\r\n250 b\r\n"), "<done>");
    c.send(message({"erin@e.example"}));
    c.server("250 ok\r\n250 ok\r\n354 go\r\n");
    EXPECT_EQ(c.server("250 2.0.0 erin saved\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 erin saved");
}

TEST(ClientSessionLmtp, SmtpModeStillTakesOneReplyForAll) {
    auto c = ready({"PIPELINING"});
    c.send(message(kTwo));
    c.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    EXPECT_EQ(c.server("250 2.0.0 queued\r\n"), "<done>");
    EXPECT_EQ(results(c.s), "250 2.0.0 queued | 250 2.0.0 queued");
}

}  // namespace
}  // namespace tern::smtp::test
