// Unit tests of REQUIRETLS (RFC 8689) in both session machines, driven by byte strings: the
// server offers and accepts it only under TLS and records it in the envelope; the client sends it
// only in a TLS session whose EHLO reply offered it.
#include <gtest/gtest.h>

#include "client_driver.h"
#include "session_driver.h"

namespace tern::smtp::test {
namespace {

SessionOptions under_tls() {
    auto o = default_options();
    o.tls_active = true;  // implicit TLS, as on the submissions listener (RFC 8314)
    return o;
}

SessionOptions with_starttls_offered() {
    auto o = default_options();
    o.starttls = true;
    return o;
}

bool offers_requiretls(const std::string& ehlo_reply) {
    return ehlo_reply.find("250-REQUIRETLS\r\n") != std::string::npos ||
           ehlo_reply.find("250 REQUIRETLS\r\n") != std::string::npos;
}

// --- server: the EHLO keyword (RFC 8689 section 2) --------------------------------------------

TEST(ServerRequireTls, OfferedOnlyUnderTls) {
    SessionDriver plain_session(with_starttls_offered());
    EXPECT_FALSE(offers_requiretls(plain_session.cmd("EHLO client.example")));
    SessionDriver tls_session(under_tls());
    EXPECT_TRUE(offers_requiretls(tls_session.cmd("EHLO client.example")));
}

TEST(ServerRequireTls, OfferedAfterStartTls) {
    auto d = after_ehlo(with_starttls_offered());
    EXPECT_EQ(codes(d.cmd("STARTTLS")), "220 2.0.0");
    EXPECT_TRUE(offers_requiretls(d.cmd("EHLO client.example")));
}

TEST(ServerRequireTls, NotOfferedWhenTurnedOff) {
    auto o = under_tls();
    o.requiretls = false;
    SessionDriver d(o);
    EXPECT_FALSE(offers_requiretls(d.cmd("EHLO client.example")));
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example> REQUIRETLS"),
              "555 5.5.4 Unsupported parameter REQUIRETLS\r\n");
}

// --- server: the MAIL parameter -----------------------------------------------------------------

TEST(ServerRequireTls, AcceptedUnderTlsAndKeptInTheEnvelope) {
    auto d = after_ehlo(under_tls());
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> requiretls")), "250 2.1.0");
    ASSERT_EQ(d.checked_params.size(), 1u);
    EXPECT_TRUE(d.checked_params[0].requiretls);
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_TRUE(d.envelopes[0].mail.requiretls);
}

TEST(ServerRequireTls, AbsentMeansNotRequired) {
    auto d = after_ehlo(under_tls());
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_FALSE(d.envelopes[0].mail.requiretls);
}

TEST(ServerRequireTls, RefusedWithoutTls) {
    auto d = after_ehlo(with_starttls_offered());
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example> REQUIRETLS"),
              "530 5.7.10 Encryption needed: REQUIRETLS is accepted only under TLS\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
    // The same client is welcome once it has TLS.
    d.cmd("STARTTLS");
    d.cmd("EHLO client.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> REQUIRETLS")), "250 2.1.0");
}

TEST(ServerRequireTls, MalformedUsesAreSyntaxErrors) {
    auto d = after_ehlo(under_tls());
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example> REQUIRETLS=YES"),
              "501 5.5.4 REQUIRETLS takes no value\r\n");
    EXPECT_EQ(d.cmd("MAIL FROM:<a@a.example> REQUIRETLS REQUIRETLS"),
              "501 5.5.4 Duplicate parameter REQUIRETLS\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
}

TEST(ServerRequireTls, HeloSessionsTakeNoParameter) {
    SessionDriver d(under_tls());
    d.cmd("HELO client.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> REQUIRETLS")), "555 5.5.4");
}

TEST(ServerRequireTls, SubmissionUnderTlsWithAuth) {
    auto o = under_tls();
    o.auth_mechanisms = {"PLAIN"};
    o.auth_required = true;
    SessionDriver d(o);
    d.auth_policy = [](ServerSession& s, const std::string&) { s.auth_succeeded("alice"); };
    d.cmd("EHLO laptop.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<alice@a.example> REQUIRETLS")), "530 5.7.0");
    EXPECT_EQ(codes(d.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")), "235 2.7.0");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<alice@a.example> REQUIRETLS")), "250 2.1.0");
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_TRUE(d.envelopes[0].mail.requiretls);
    EXPECT_EQ(d.protocols[0], "ESMTPSA");
}

TEST(ServerRequireTls, EverySplitOfAPipelinedDialogGivesTheSameReplies) {
    const std::string input =
        "EHLO client.example\r\nMAIL FROM:<a@a.example> REQUIRETLS\r\nRCPT TO:<b@b.example>\r\n"
        "DATA\r\n";
    SessionDriver whole(under_tls());
    std::string expected = whole.feed(input);
    ASSERT_EQ(codes(expected), "250, 250 2.1.0, 250 2.1.5, 354");
    for (std::size_t step = 1; step < input.size(); ++step) {
        SessionDriver d(under_tls());
        EXPECT_EQ(d.feed_in_pieces(input, step), expected) << step;
        ASSERT_EQ(d.envelopes.size(), 1u);
        EXPECT_TRUE(d.envelopes[0].mail.requiretls);
    }
}

// --- client -------------------------------------------------------------------------------------

OutboundMessage requiring_tls() {
    auto m = message();
    m.requiretls = true;
    return m;
}

// A client session through STARTTLS whose second EHLO reply offers `keywords`.
Client under_tls_with(const std::vector<std::string>& keywords) {
    Client c(with_starttls(true));
    EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo({"STARTTLS", "REQUIRETLS"})), "STARTTLS\r\n");
    EXPECT_EQ(c.server("220 2.0.0 go ahead\r\n"), "<starttls>");
    EXPECT_EQ(c.tls(true), "EHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo(keywords)), "<ready>");
    return c;
}

TEST(ClientRequireTls, TheKeywordIsRead) {
    EXPECT_TRUE(parse_ehlo(Reply{250, "", "mx.example\nrequiretls"}).requiretls);
    EXPECT_FALSE(parse_ehlo(Reply{250, "", "mx.example\nREQUIRETLSX"}).requiretls);
}

TEST(ClientRequireTls, MailFromCarriesTheOptionWhenOfferedUnderTls) {
    auto c = under_tls_with({"REQUIRETLS"});
    EXPECT_TRUE(c.s.requiretls_offered());
    EXPECT_EQ(c.send(requiring_tls()), "MAIL FROM:<alice@a.example> REQUIRETLS\r\n");
    EXPECT_EQ(c.server("250 2.1.0 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
}

TEST(ClientRequireTls, AnOrdinaryMessageDoesNotCarryIt) {
    auto c = under_tls_with({"REQUIRETLS"});
    EXPECT_EQ(c.send(message()), "MAIL FROM:<alice@a.example>\r\n");
}

TEST(ClientRequireTls, RefusedWhenTheServerDoesNotOfferItUnderTls) {
    // REQUIRETLS offered before STARTTLS does not count (RFC 8689 section 2).
    auto c = under_tls_with({"PIPELINING"});
    EXPECT_FALSE(c.s.requiretls_offered());
    EXPECT_EQ(c.send(requiring_tls()), "<done>");
    EXPECT_EQ(results(c.s),
              "550 5.7.30 REQUIRETLS support required: the receiving server does not offer "
              "REQUIRETLS");
    EXPECT_TRUE(c.s.result()[0].synthetic);
    EXPECT_TRUE(c.s.ready());  // the connection stays good for other mail
}

TEST(ClientRequireTls, RefusedWithoutTls) {
    auto c = ready({"REQUIRETLS", "PIPELINING"});
    EXPECT_FALSE(c.s.requiretls_offered());
    EXPECT_EQ(c.send(requiring_tls()), "<done>");
    EXPECT_EQ(results(c.s),
              "550 5.7.30 REQUIRETLS support required: the session with the receiving server is "
              "not under TLS");
}

TEST(ClientRequireTls, MissingTlsIsSaidToBeTheFailure) {
    Client c(with_starttls(true));
    c.server(kGreeting);
    EXPECT_EQ(c.server(ehlo({"PIPELINING"})), "QUIT\r\n<failed>");
    EXPECT_TRUE(c.s.tls_unavailable());
    Client refused(with_starttls(true));
    refused.server(kGreeting);
    refused.server(ehlo({"STARTTLS"}));
    refused.server("454 4.7.0 TLS not available\r\n");
    EXPECT_TRUE(refused.s.tls_unavailable());
    // A server that fails otherwise did not fail TLS.
    Client other(with_starttls(true));
    other.server(kGreeting);
    other.server("421 4.3.2 shutting down\r\n");
    EXPECT_TRUE(other.s.failed());
    EXPECT_FALSE(other.s.tls_unavailable());
}

}  // namespace
}  // namespace tern::smtp::test
