// Unit tests of ServerSession security and session ends: STARTTLS (RFC 3207, and the pipelined
// command injection of CVE-2011-0411), AUTH (RFC 4954), timeout() and shutdown().
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

SessionOptions starttls_options() {
    auto o = default_options();
    o.starttls = true;
    return o;
}

SessionOptions auth_options() {
    auto o = default_options();
    o.auth_mechanisms = {"PLAIN", "LOGIN"};
    o.tls_active = true;
    return o;
}

// PLAIN with "\0alice\0secret" succeeds, anything else fails; LOGIN asks for user and password.
void accept_alice(SessionDriver& d) {
    d.auth_policy = [&d](ServerSession& s, const std::string& data) {
        if (s.auth_mechanism() == "PLAIN") {
            if (data.empty() || data == "=") return s.auth_challenge("");
            if (data == "AGFsaWNlAHNlY3JldA==") return s.auth_succeeded("alice");
            return s.auth_failed(reply(ReplyName::kAuthFailed));
        }
        std::size_t step = d.auth_steps.size();
        if (step == 1) return s.auth_challenge("VXNlcm5hbWU6");
        if (step == 2) return s.auth_challenge("UGFzc3dvcmQ6");
        if (d.auth_steps[1] == "YWxpY2U=" && data == "c2VjcmV0") return s.auth_succeeded("alice");
        s.auth_failed(reply(ReplyName::kAuthFailed));
    };
}

// --- STARTTLS ----------------------------------------------------------------------------------

TEST(ServerSessionStartTls, Handshake) {
    auto d = after_ehlo(starttls_options());
    EXPECT_EQ(d.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_EQ(d.count(ActionKind::kStartTls), 1u);
    EXPECT_TRUE(d.session.tls_active());
    // RFC 3207 section 4.2: the client starts over with EHLO.
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "503 5.5.1");
    std::string ehlo = d.cmd("EHLO client.example");
    EXPECT_EQ(codes(ehlo), "250");
    EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "503 5.5.1");
}

TEST(ServerSessionStartTls, PipelinedCommandsAreDiscarded) {
    auto d = after_ehlo(starttls_options());
    EXPECT_EQ(d.feed("STARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\n"),
              "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
    EXPECT_TRUE(d.checked_recipients.empty());
    EXPECT_EQ(codes(d.cmd("EHLO client.example")), "250");
    EXPECT_TRUE(d.checked_senders.empty());
}

TEST(ServerSessionStartTls, BytesReceivedDuringHandshakeAreDiscarded) {
    auto d = after_ehlo(starttls_options());
    d.tls_answer.reset();
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "220 2.0.0");
    EXPECT_FALSE(d.session.wants_input());
    EXPECT_EQ(d.feed("MAIL FROM:<evil@x.example>\r\n"), "");
    d.session.tls_started(true);
    d.pump();
    EXPECT_TRUE(d.checked_senders.empty());
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
}

TEST(ServerSessionStartTls, TransactionIsForgotten) {
    auto d = after_ehlo(starttls_options());
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("STARTTLS");
    d.cmd("EHLO client.example");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "503 5.5.1");
}

TEST(ServerSessionStartTls, FailedHandshakeCloses) {
    auto d = after_ehlo(starttls_options());
    d.tls_answer = false;
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "220 2.0.0");
    EXPECT_TRUE(d.session.closed());
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    EXPECT_FALSE(d.session.tls_active());
}

TEST(ServerSessionStartTls, NotOffered) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "502 5.5.1");
    EXPECT_EQ(d.count(ActionKind::kStartTls), 0u);
}

TEST(ServerSessionStartTls, NeedsEhloAndNoArgument) {
    SessionDriver d(starttls_options());
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "503 5.5.1");
    d.cmd("EHLO client.example");
    EXPECT_EQ(codes(d.cmd("STARTTLS now")), "501 5.5.4");
    EXPECT_EQ(d.count(ActionKind::kStartTls), 0u);
}

TEST(ServerSessionStartTls, AlreadyActive) {
    auto o = starttls_options();
    o.tls_active = true;
    auto d = after_ehlo(o);
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "503 5.5.1");
}

TEST(ServerSessionStartTls, TlsRequired) {
    auto o = starttls_options();
    o.tls_required = true;
    auto d = after_ehlo(o);
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example>"),
              "530 5.7.0 Must issue a STARTTLS command first\r\n");
    EXPECT_EQ(codes(d.cmd("VRFY bob")), "530 5.7.0");
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
    d.cmd("STARTTLS");
    d.cmd("EHLO client.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
}

// --- AUTH --------------------------------------------------------------------------------------

TEST(ServerSessionAuth, EncryptionRequired) {
    auto o = auth_options();
    o.tls_active = false;
    auto d = after_ehlo(o);
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
              "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
    EXPECT_TRUE(d.auth_steps.empty());
}

// Submission before STARTTLS (RFC 3207 4, as Postfix): AUTH waits for TLS, so MAIL and AUTH
// name the missing step; under TLS, MAIL without AUTH says authentication is required.
TEST(ServerSessionAuth, BeforeStartTlsMailAndAuthSayStartTlsFirst) {
    auto o = auth_options();
    o.tls_active = false;
    o.starttls = true;
    o.auth_required = true;
    auto d = after_ehlo(o);
    accept_alice(d);
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example>"),
              "530 5.7.0 Must issue a STARTTLS command first\r\n");
    EXPECT_EQ(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
              "530 5.7.0 Must issue a STARTTLS command first\r\n");
    EXPECT_TRUE(d.auth_steps.empty());
    EXPECT_TRUE(d.checked_senders.empty());
    d.cmd("STARTTLS");
    d.cmd("EHLO client.example");
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example>"), "530 5.7.0 Authentication required\r\n");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
}

TEST(ServerSessionAuth, WithoutStartTlsToOfferTheRepliesStayAsTheyWere) {
    // No STARTTLS on this connection: saying "issue STARTTLS" would send the client nowhere.
    auto o = auth_options();
    o.tls_active = false;
    o.auth_required = true;
    auto d = after_ehlo(o);
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "538 5.7.11");
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example>"), "530 5.7.0 Authentication required\r\n");
    // Submission without any mechanism configured: nothing to wait for either.
    auto none = default_options();
    none.starttls = true;
    none.auth_required = true;
    auto n = after_ehlo(none);
    EXPECT_EQ(n.cmd("MAIL FROM:<a@a.example>"), "530 5.7.0 Authentication required\r\n");
}

TEST(ServerSessionAuth, AvailableAfterStartTls) {
    auto o = auth_options();
    o.tls_active = false;
    o.starttls = true;
    auto d = after_ehlo(o);
    accept_alice(d);
    d.cmd("STARTTLS");
    EXPECT_NE(d.cmd("EHLO client.example").find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos);
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
}

TEST(ServerSessionAuth, UnknownMechanism) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH CRAM-MD5"), "504 5.5.4 Unrecognized authentication mechanism\r\n");
    EXPECT_EQ(codes(d.cmd("AUTH")), "501 5.5.4");
    EXPECT_TRUE(d.auth_steps.empty());
}

TEST(ServerSessionAuth, MechanismIsCaseInsensitive) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(codes(d.cmd("auth plain AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
}

TEST(ServerSessionAuth, InitialResponse) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), "235 2.7.0 Authentication successful\r\n");
    EXPECT_EQ(d.auth_steps, std::vector<std::string>{"AGFsaWNlAHNlY3JldA=="});
    EXPECT_EQ(d.session.authenticated_user(), "alice");
}

// The driver must know a new exchange from a response: after "*" cancels one, the next AUTH
// starts afresh instead of continuing the cancelled mechanism.
TEST(ServerSessionAuth, EachAuthCommandStartsANewExchange) {
    auto d = after_ehlo(auth_options());
    d.auth_policy = [](ServerSession& s, const std::string&) { s.auth_challenge(""); };
    EXPECT_EQ(codes(d.cmd("AUTH LOGIN")), "334");
    EXPECT_EQ(codes(d.cmd("*")), "501 5.0.0");
    EXPECT_EQ(codes(d.cmd("AUTH LOGIN")), "334");
    EXPECT_EQ(d.auth_starts, 2u);
    EXPECT_EQ(d.auth_steps.size(), 2u);
}

TEST(ServerSessionAuth, EmptyInitialResponse) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH PLAIN ="), "334 \r\n");
    EXPECT_EQ(d.auth_steps, std::vector<std::string>{"="});
}

TEST(ServerSessionAuth, ChallengeResponseRoundTrip) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
    EXPECT_EQ(d.cmd("YWxpY2U="), "334 UGFzc3dvcmQ6\r\n");
    EXPECT_EQ(codes(d.cmd("c2VjcmV0")), "235 2.7.0");
    EXPECT_EQ(d.auth_steps, (std::vector<std::string>{"", "YWxpY2U=", "c2VjcmV0"}));
    // Response lines are not commands: nothing was refused on the way.
    EXPECT_EQ(codes(d.sent), "220, 250, 334, 334, 235 2.7.0");
}

TEST(ServerSessionAuth, PipelinedResponsesWaitForTheChallenge) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(codes(d.feed("AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nNOOP\r\n")),
              "334, 334, 235 2.7.0, 250 2.0.0");
}

TEST(ServerSessionAuth, EmptyResponseLineIsPassedAsEquals) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    d.cmd("AUTH PLAIN");
    d.cmd("");
    EXPECT_EQ(d.auth_steps, (std::vector<std::string>{"", "="}));
}

TEST(ServerSessionAuth, CancelWithStar) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
    EXPECT_EQ(d.cmd("*"), "501 5.0.0 Authentication cancelled\r\n");
    EXPECT_EQ(d.auth_steps.size(), 1u);
    EXPECT_EQ(d.session.authenticated_user(), "");
    EXPECT_EQ(codes(d.cmd("NOOP")), "250 2.0.0");
}

TEST(ServerSessionAuth, Failure) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    EXPECT_EQ(d.cmd("AUTH PLAIN AG1hbGxvcnkAZ3Vlc3M="),
              "535 5.7.8 Authentication credentials invalid\r\n");
    EXPECT_EQ(d.session.authenticated_user(), "");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
}

TEST(ServerSessionAuth, TemporaryFailure) {
    auto d = after_ehlo(auth_options());
    d.auth_policy = [](ServerSession& s, const std::string&) {
        s.auth_failed(reply(ReplyName::kAuthTemporary));
    };
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "454 4.7.0");
}

TEST(ServerSessionAuth, OnlyOnce) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "503 5.5.1");
    EXPECT_EQ(d.cmd("EHLO client.example").find("AUTH"), std::string::npos);
}

TEST(ServerSessionAuth, NotDuringATransaction) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "503 5.5.1");
    EXPECT_TRUE(d.auth_steps.empty());
}

TEST(ServerSessionAuth, NeedsEhlo) {
    SessionDriver d(auth_options());
    accept_alice(d);
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "503 5.5.1");
    d.cmd("HELO client.example");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "503 5.5.1");
    EXPECT_TRUE(d.auth_steps.empty());
}

TEST(ServerSessionAuth, NotOffered) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "502 5.5.1");
}

TEST(ServerSessionAuth, RequiredForMail) {
    auto o = auth_options();
    o.auth_required = true;
    auto d = after_ehlo(o);
    accept_alice(d);
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example>"), "530 5.7.0 Authentication required\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
    d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
}

TEST(ServerSessionAuth, StartTlsForgetsTheUser) {
    auto o = auth_options();
    o.auth_needs_tls = false;
    o.tls_active = false;
    o.starttls = true;
    auto d = after_ehlo(o);
    accept_alice(d);
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
    d.cmd("STARTTLS");
    EXPECT_EQ(d.session.authenticated_user(), "");
    d.cmd("EHLO client.example");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
}

// --- timeout and shutdown ---------------------------------------------------------------------

TEST(ServerSessionEnd, Timeout) {
    auto d = after_ehlo();
    d.session.timeout();
    d.pump();
    EXPECT_EQ(d.sent.substr(d.sent.rfind("421")),
              "421 4.4.2 Timeout exceeded, closing connection\r\n");
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    EXPECT_TRUE(d.session.closed());
    EXPECT_EQ(d.cmd("NOOP"), "");
}

TEST(ServerSessionEnd, Shutdown) {
    auto d = after_ehlo();
    d.session.shutdown();
    d.pump();
    EXPECT_EQ(d.sent.substr(d.sent.rfind("421")),
              "421 4.3.2 Service shutting down, closing transmission channel\r\n");
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    EXPECT_TRUE(d.session.closed());
}

TEST(ServerSessionEnd, TimeoutDuringDataAbortsTheMessage) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    d.feed("partial body\r\n");
    EXPECT_TRUE(d.session.reading_message());
    d.session.timeout();
    d.pump();
    EXPECT_EQ(codes(d.sent.substr(d.sent.rfind("421"))), "421 4.4.2");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
    EXPECT_EQ(d.feed(".\r\n"), "");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
}

TEST(ServerSessionEnd, ShutdownDuringBdatAbortsTheMessage) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    d.feed("BDAT 10 LAST\r\nhalf");
    d.session.shutdown();
    d.pump();
    EXPECT_EQ(codes(d.sent.substr(d.sent.rfind("421"))), "421 4.3.2");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    EXPECT_EQ(d.actions.back(), ActionKind::kClose);
}

TEST(ServerSessionEnd, TimeoutAfterCloseDoesNothing) {
    SessionDriver d;
    d.cmd("QUIT");
    std::size_t before = d.actions.size();
    d.session.timeout();
    d.session.shutdown();
    d.pump();
    EXPECT_EQ(d.actions.size(), before);
}

TEST(ServerSessionEnd, TimeoutDuringAuthExchange) {
    auto d = after_ehlo(auth_options());
    accept_alice(d);
    d.cmd("AUTH LOGIN");
    d.session.timeout();
    d.pump();
    EXPECT_EQ(codes(d.sent.substr(d.sent.rfind("421"))), "421 4.4.2");
    EXPECT_TRUE(d.session.closed());
}

}  // namespace
}  // namespace tern::smtp::test
