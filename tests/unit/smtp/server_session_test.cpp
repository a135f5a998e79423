// Unit tests of ServerSession dialogs: command order, the simple verbs, the EHLO advertisement and
// the Received protocol keyword (addresses and parameters: server_session_params_test.cpp).
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

TEST(ServerSession, GreetingNamesTheHost) {
    SessionDriver d;
    EXPECT_EQ(d.sent, "220 mx.example ESMTP Tern\r\n");
}

TEST(ServerSession, SimpleDialog) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("EHLO client.example")), "250");
    EXPECT_EQ(d.cmd("MAIL FROM:<alice@a.example>"), "250 2.1.0 Sender ok\r\n");
    EXPECT_EQ(d.cmd("RCPT TO:<bob@b.example>"), "250 2.1.5 Recipient ok\r\n");
    EXPECT_EQ(d.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>\r\n");
    EXPECT_EQ(d.feed("Subject: hi\r\n\r\nHello\r\n.\r\n"), "250 2.0.0 Ok: queued as X\r\n");
    EXPECT_EQ(d.cmd("QUIT"), "221 2.0.0 Bye\r\n");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "Subject: hi\r\n\r\nHello\r\n");
    EXPECT_EQ(d.checked_senders, std::vector<std::string>{"<alice@a.example>"});
    EXPECT_EQ(d.checked_recipients, std::vector<std::string>{"<bob@b.example>"});
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].sender.str(), "<alice@a.example>");
    ASSERT_EQ(d.envelopes[0].recipients.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients[0].path.str(), "<bob@b.example>");
    EXPECT_TRUE(d.session.closed());
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
}

TEST(ServerSession, TwoMessagesInOneSession) {
    auto d = after_ehlo();
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
        EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "250 2.1.5");
        EXPECT_EQ(codes(d.cmd("DATA")), "354");
        EXPECT_EQ(codes(d.feed("x\r\n.\r\n")), "250 2.0.0");
    }
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 2u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 2u);
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 0u);
}

// --- order rules -------------------------------------------------------------------------------

TEST(ServerSessionOrder, MailBeforeHelo) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "503 5.5.1");
    EXPECT_TRUE(d.checked_senders.empty());
}

TEST(ServerSessionOrder, RcptAndDataBeforeHelo) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
    EXPECT_EQ(codes(d.cmd("DATA")), "503 5.5.1");
}

TEST(ServerSessionOrder, HeloIsEnoughForMail) {
    SessionDriver d;
    EXPECT_EQ(d.cmd("HELO client.example"), "250 mx.example\r\n");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
}

TEST(ServerSessionOrder, HeloNeedsAName) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("EHLO")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("HELO ")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "503 5.5.1");
}

TEST(ServerSessionOrder, RcptBeforeMail) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
    EXPECT_TRUE(d.checked_recipients.empty());
}

TEST(ServerSessionOrder, DataBeforeMail) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("DATA")), "503 5.5.1");
}

TEST(ServerSessionOrder, DataBeforeRcpt) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("DATA")), "503 5.5.1");
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
}

TEST(ServerSessionOrder, DataWhenAllRecipientsRefused) {
    auto d = after_ehlo();
    d.recipient_policy = [](const RcptCommand&) {
        return std::optional<Reply>(reply(ReplyName::kUnknownUser));
    };
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<nobody@b.example>")), "550 5.1.1");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<bad address>")), "553 5.1.3");
    EXPECT_EQ(codes(d.cmd("DATA")), "554 5.5.1");
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 0u);
}

TEST(ServerSessionOrder, DataWithSomeRecipientsRefused) {
    auto d = after_ehlo();
    d.recipient_policy = [](const RcptCommand& r) {
        if (r.recipient.mailbox.local == "nobody")
            return std::optional<Reply>(reply(ReplyName::kUnknownUser));
        return std::optional<Reply>(reply(ReplyName::kRecipientOk));
    };
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<nobody@b.example>")), "550 5.1.1");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<bob@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("DATA")), "354");
    ASSERT_EQ(d.envelopes.size(), 1u);
    ASSERT_EQ(d.envelopes[0].recipients.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients[0].path.str(), "<bob@b.example>");
}

TEST(ServerSessionOrder, RefusedSenderStartsNoTransaction) {
    auto d = after_ehlo();
    d.sender_policy = [](const MailCommand&) {
        return std::optional<Reply>(reply(ReplyName::kRelayDenied));
    };
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "554 5.7.1");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
}

TEST(ServerSessionOrder, NestedMail) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<c@a.example>")), "503 5.5.1");
    EXPECT_EQ(d.checked_senders.size(), 1u);
}

TEST(ServerSessionOrder, DataTakesNoArgument) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    EXPECT_EQ(codes(d.cmd("DATA now")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("DATA")), "354");
}

TEST(ServerSessionOrder, RsetClearsTheEnvelope) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    EXPECT_EQ(d.cmd("RSET"), "250 2.0.0 Reset state\r\n");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
    EXPECT_EQ(codes(d.cmd("DATA")), "503 5.5.1");
    // A new transaction starts clean: only the new recipient reaches the envelope.
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<c@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<d@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("DATA")), "354");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].sender.str(), "<c@a.example>");
    ASSERT_EQ(d.envelopes[0].recipients.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients[0].path.str(), "<d@b.example>");
}

TEST(ServerSessionOrder, RsetTakesNoArgument) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("RSET all")), "501 5.5.4");
}

TEST(ServerSessionOrder, RsetBeforeHeloIsFine) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("RSET")), "250 2.0.0");
}

TEST(ServerSessionOrder, EhloResetsTheTransaction) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    EXPECT_EQ(codes(d.cmd("EHLO client.example")), "250");
    EXPECT_EQ(codes(d.cmd("DATA")), "503 5.5.1");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
}

TEST(ServerSessionOrder, HeloResetsTheTransaction) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("HELO client.example")), "250");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
}

TEST(ServerSessionOrder, DuplicateRecipientIsKeptOnce) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@B.EXAMPLE>")), "250 2.1.5");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_EQ(d.envelopes[0].recipients.size(), 1u);
}

// --- simple verbs ------------------------------------------------------------------------------

TEST(ServerSessionVerbs, Quit) {
    SessionDriver d;
    EXPECT_EQ(d.cmd("QUIT"), "221 2.0.0 Bye\r\n");
    EXPECT_TRUE(d.session.closed());
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    // Nothing after QUIT is read.
    EXPECT_EQ(d.cmd("NOOP"), "");
}

TEST(ServerSessionVerbs, QuitEndsPipelinedGroup) {
    SessionDriver d;
    EXPECT_EQ(codes(d.feed("NOOP\r\nQUIT\r\nNOOP\r\n")), "250 2.0.0, 221 2.0.0");
}

TEST(ServerSessionVerbs, Vrfy) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("VRFY bob")), "252 2.5.0");
    EXPECT_EQ(codes(d.cmd("VRFY")), "501 5.5.4");
}

TEST(ServerSessionVerbs, Expn) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("EXPN staff")), "502 5.5.1");
}

TEST(ServerSessionVerbs, Help) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("HELP")), "214 2.0.0");
    EXPECT_EQ(codes(d.cmd("HELP MAIL")), "214 2.0.0");
}

TEST(ServerSessionVerbs, Noop) {
    SessionDriver d;
    EXPECT_EQ(d.cmd("NOOP"), "250 2.0.0 Ok\r\n");
    EXPECT_EQ(d.cmd("NOOP anything at all"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionVerbs, UnknownVerb) {
    SessionDriver d;
    EXPECT_EQ(d.cmd("FOO bar"), "500 5.5.2 Command not recognized\r\n");
    EXPECT_EQ(codes(d.cmd("")), "500 5.5.2");
    EXPECT_EQ(codes(d.cmd("MAILFROM:<a@a.example>")), "500 5.5.2");
    EXPECT_EQ(codes(d.cmd(" NOOP")), "500 5.5.2");
}

TEST(ServerSessionVerbs, VerbsAreCaseInsensitive) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("ehlo client.example")), "250");
    EXPECT_EQ(codes(d.cmd("mail from:<a@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("rCpT To:<b@b.example>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("dAtA")), "354");
    EXPECT_EQ(codes(d.feed(".\r\n")), "250 2.0.0");
    EXPECT_EQ(codes(d.cmd("NoOp")), "250 2.0.0");
    EXPECT_EQ(codes(d.cmd("quit")), "221 2.0.0");
}

TEST(ServerSessionVerbs, SpaceAfterColonIsTolerated) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM: <a@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RCPT TO: <b@b.example>")), "250 2.1.5");
}

TEST(ServerSessionVerbs, MailAndRcptNeedTheirPrefix) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL <a@a.example>")), "501 5.5.4");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT <b@b.example>")), "501 5.5.4");
}

// --- EHLO advertisement ------------------------------------------------------------------------

TEST(ServerSessionEhlo, AdvertisesTheExtensions) {
    SessionDriver d;
    EXPECT_EQ(d.cmd("EHLO client.example"),
              "250-mx.example\r\n"
              "250-PIPELINING\r\n"
              "250-SIZE 52428800\r\n"
              "250-8BITMIME\r\n"
              "250-SMTPUTF8\r\n"
              "250-ENHANCEDSTATUSCODES\r\n"
              "250-CHUNKING\r\n"
              "250-DSN\r\n"
              "250 LIMITS RCPTMAX=1000 MAILMAX=1000\r\n");
}

TEST(ServerSessionEhlo, SizeShowsTheLimit) {
    auto o = default_options();
    o.limits.max_message_size = 1000;
    SessionDriver d(o);
    EXPECT_NE(d.cmd("EHLO c.example").find("250-SIZE 1000\r\n"), std::string::npos);
}

TEST(ServerSessionEhlo, OptionalExtensionsCanBeTurnedOff) {
    auto o = default_options();
    o.eight_bit_mime = false;
    o.smtputf8 = false;
    o.chunking = false;
    o.dsn = false;
    SessionDriver d(o);
    EXPECT_EQ(d.cmd("EHLO client.example"),
              "250-mx.example\r\n"
              "250-PIPELINING\r\n"
              "250-SIZE 52428800\r\n"
              "250-ENHANCEDSTATUSCODES\r\n"
              "250 LIMITS RCPTMAX=1000 MAILMAX=1000\r\n");
}

TEST(ServerSessionEhlo, StartTlsOnlyWhenOffered) {
    auto o = default_options();
    o.starttls = true;
    SessionDriver d(o);
    std::string text = d.cmd("EHLO client.example");
    EXPECT_NE(text.find("250 STARTTLS\r\n"), std::string::npos) << text;

    SessionDriver plain;
    EXPECT_EQ(plain.cmd("EHLO client.example").find("STARTTLS"), std::string::npos);

    o.tls_active = true;  // implicit TLS: nothing to start
    SessionDriver implicit(o);
    EXPECT_EQ(implicit.cmd("EHLO client.example").find("STARTTLS"), std::string::npos);
}

TEST(ServerSessionEhlo, AuthOnlyWhenAllowed) {
    auto o = default_options();
    o.auth_mechanisms = {"PLAIN", "LOGIN"};
    SessionDriver before_tls(o);  // auth_needs_tls and no TLS yet
    EXPECT_EQ(before_tls.cmd("EHLO client.example").find("AUTH"), std::string::npos);

    o.tls_active = true;
    SessionDriver with_tls(o);
    EXPECT_NE(with_tls.cmd("EHLO client.example").find("250 AUTH PLAIN LOGIN\r\n"),
              std::string::npos);

    o.tls_active = false;
    o.auth_needs_tls = false;
    SessionDriver cleartext(o);
    EXPECT_NE(cleartext.cmd("EHLO client.example").find("250 AUTH PLAIN LOGIN\r\n"),
              std::string::npos);

    SessionDriver none;
    EXPECT_EQ(none.cmd("EHLO client.example").find("AUTH"), std::string::npos);
}

TEST(ServerSessionEhlo, HeloAdvertisesNothing) {
    SessionDriver d;
    EXPECT_EQ(d.cmd("HELO client.example"), "250 mx.example\r\n");
}

TEST(ServerSessionEhlo, NameWithCommentIsAccepted) {
    SessionDriver d;
    EXPECT_EQ(codes(d.cmd("EHLO client.example (my laptop)")), "250");
    EXPECT_EQ(d.session.helo_name(), "client.example");
    EXPECT_EQ(codes(d.cmd("EHLO [192.0.2.1]")), "250");
}

// --- Received protocol keyword -----------------------------------------------------------------

// Runs one transaction and returns protocol() as the driver saw it when the message began.
std::string protocol_of(SessionDriver& d, std::string_view mail = "MAIL FROM:<a@a.example>") {
    d.cmd(mail);
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    d.feed(".\r\n");
    return d.protocols.empty() ? std::string("none") : d.protocols.back();
}

TEST(ServerSessionProtocol, Smtp) {
    SessionDriver d;
    d.cmd("HELO client.example");
    EXPECT_EQ(protocol_of(d), "SMTP");
}

TEST(ServerSessionProtocol, Esmtp) {
    auto d = after_ehlo();
    EXPECT_EQ(protocol_of(d), "ESMTP");
}

TEST(ServerSessionProtocol, Utf8Smtp) {
    auto d = after_ehlo();
    EXPECT_EQ(protocol_of(d, "MAIL FROM:<a@a.example> SMTPUTF8"), "UTF8SMTP");
    EXPECT_EQ(protocol_of(d), "ESMTP");  // per transaction
}

TEST(ServerSessionProtocol, EsmtpsAndUtf8Smtps) {
    auto o = default_options();
    o.tls_active = true;
    auto d = after_ehlo(o);
    EXPECT_EQ(protocol_of(d), "ESMTPS");
    EXPECT_EQ(protocol_of(d, "MAIL FROM:<a@a.example> SMTPUTF8"), "UTF8SMTPS");
}

TEST(ServerSessionProtocol, AuthenticatedVariants) {
    auto o = default_options();
    o.auth_mechanisms = {"PLAIN"};
    o.tls_active = true;
    auto d = after_ehlo(o);
    d.auth_policy = [](ServerSession& s, const std::string&) { s.auth_succeeded("alice"); };
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
    EXPECT_EQ(protocol_of(d), "ESMTPSA");
    EXPECT_EQ(protocol_of(d, "MAIL FROM:<a@a.example> SMTPUTF8"), "UTF8SMTPSA");

    o.tls_active = false;
    o.auth_needs_tls = false;
    auto e = after_ehlo(o);
    e.auth_policy = d.auth_policy;
    EXPECT_EQ(codes(e.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
    EXPECT_EQ(protocol_of(e), "ESMTPA");
}

}  // namespace
}  // namespace tern::smtp::test
