// Unit tests of ClientSession, the outbound SMTP client (RFC 5321, 3207): parse_ehlo, the
// greeting, EHLO/HELO, STARTTLS, RSET and QUIT, replies out of turn, replies split at every byte.
// Transactions: client_session_transaction_test.cpp; LIMITS: client_session_limits_test.cpp.
#include "smtp/client_session.h"

#include <gtest/gtest.h>

#include "client_driver.h"

namespace tern::smtp::test {
namespace {

// --- parse_ehlo ---------------------------------------------------------------------------------

TEST(ParseEhlo, ReadsEveryKnownKeywordCaseInsensitively) {
    auto caps =
        parse_ehlo(Reply{250, "",
                         "mx.example greets you\nPIPELINING\nsize 5000\n8bitmime\nSMTPUTF8\n"
                         "Dsn\nCHUNKING\nSTARTTLS\nENHANCEDSTATUSCODES\nAUTH PLAIN login"});
    EXPECT_TRUE(caps.esmtp);
    EXPECT_TRUE(caps.pipelining);
    EXPECT_TRUE(caps.size);
    EXPECT_EQ(caps.size_limit, 5000u);
    EXPECT_TRUE(caps.eight_bit_mime);
    EXPECT_TRUE(caps.smtputf8);
    EXPECT_TRUE(caps.dsn);
    EXPECT_TRUE(caps.chunking);
    EXPECT_TRUE(caps.starttls);
    EXPECT_TRUE(caps.enhanced_status);
    EXPECT_EQ(caps.auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

TEST(ParseEhlo, GreetingLineAloneOffersNothing) {
    auto caps = parse_ehlo(Reply{250, "", "mx.example"});
    EXPECT_TRUE(caps.esmtp);
    EXPECT_FALSE(caps.pipelining);
    EXPECT_FALSE(caps.size);
    EXPECT_FALSE(caps.starttls);
    EXPECT_TRUE(caps.auth.empty());
}

TEST(ParseEhlo, FirstLineIsTheServerNameNotAKeyword) {
    auto caps = parse_ehlo(Reply{250, "", "PIPELINING\nSTARTTLS"});
    EXPECT_FALSE(caps.pipelining);
    EXPECT_TRUE(caps.starttls);
}

TEST(ParseEhlo, SizeWithoutAValidNumberMeansNoLimit) {
    for (const char* text : {"mx\nSIZE", "mx\nSIZE abc", "mx\nSIZE 12x", "mx\nSIZE 0"}) {
        auto caps = parse_ehlo(Reply{250, "", text});
        EXPECT_TRUE(caps.size) << text;
        EXPECT_EQ(caps.size_limit, 0u) << text;
    }
}

TEST(ParseEhlo, UnknownKeywordsAndOldSyntaxAreIgnored) {
    auto caps = parse_ehlo(Reply{250, "", "mx\nXFORWARD NAME ADDR\nAUTH=LOGIN\nPIPELININGX\nETRN"});
    EXPECT_FALSE(caps.pipelining);
    EXPECT_TRUE(caps.auth.empty());
}

TEST(ParseEhlo, AuthSkipsEmptyMechanisms) {
    auto caps = parse_ehlo(Reply{250, "", "mx\nAUTH  plain  CRAM-MD5"});
    EXPECT_EQ(caps.auth, (std::vector<std::string>{"PLAIN", "CRAM-MD5"}));
}

// --- greeting, EHLO, HELO -----------------------------------------------------------------------

TEST(ClientSession, GreetingIsAnsweredWithEhlo) {
    Client c;
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kGreeting);
    EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kCommand);
}

TEST(ClientSession, MultiLineGreetingIsAnsweredOnceItIsComplete) {
    Client c;
    EXPECT_EQ(c.server("220-mx.example ESMTP\r\n"), "");
    EXPECT_EQ(c.server("220 no UCE\r\n"), "EHLO client.example\r\n");
}

TEST(ClientSession, EhloReplyMakesTheSessionReadyWithItsCapabilities) {
    auto c = ready({"PIPELINING", "SIZE 10000", "8BITMIME", "DSN"});
    EXPECT_TRUE(c.s.ready());
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kNothing);
    EXPECT_TRUE(c.s.capabilities().esmtp);
    EXPECT_TRUE(c.s.capabilities().pipelining);
    EXPECT_EQ(c.s.capabilities().size_limit, 10000u);
    EXPECT_TRUE(c.s.capabilities().eight_bit_mime);
    EXPECT_TRUE(c.s.capabilities().dsn);
    EXPECT_FALSE(c.s.capabilities().chunking);
    EXPECT_FALSE(c.s.tls_active());
}

TEST(ClientSession, GreetingRefusedWith5xxSendsQuitAndFailsTemporarily) {
    // Another MX may take the mail: a 5xx greeting must not bounce it.
    Client c;
    EXPECT_EQ(c.server("554 5.7.1 go away\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 451, "4.3.0", "greeting");
    EXPECT_NE(c.s.failure().text.find("554 5.7.1 go away"), std::string::npos);
}

TEST(ClientSession, GreetingWith421FailsWithThatReply) {
    Client c;
    EXPECT_EQ(c.server("421 4.3.2 busy\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 421, "4.3.2", "greeting");
}

TEST(ClientSession, EhloRefusedWith500Or502FallsBackToHelo) {
    for (const char* refusal : {"500 5.5.2 what?\r\n", "502 5.5.1 not implemented\r\n"}) {
        Client c;
        EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
        EXPECT_EQ(c.server(refusal), "HELO client.example\r\n") << refusal;
        EXPECT_EQ(c.server("250 mx.example\r\n"), "<ready>");
        EXPECT_FALSE(c.s.capabilities().esmtp);
        EXPECT_FALSE(c.s.capabilities().pipelining);
    }
}

TEST(ClientSession, AfterHeloTheTransactionUsesNoExtensions) {
    Client c;
    c.server(kGreeting);
    EXPECT_EQ(c.server("502 5.5.1 no\r\n"), "HELO client.example\r\n");
    EXPECT_EQ(c.server("250 mx.example\r\n"), "<ready>");
    EXPECT_EQ(c.send(message(kTwo)), "MAIL FROM:<alice@a.example>\r\n");
    EXPECT_EQ(c.server("250 ok\r\n"), "RCPT TO:<bob@b.example>\r\n");
}

TEST(ClientSession, EhloRefusedWith554IsNotRetriedWithHelo) {
    Client c;
    c.server(kGreeting);
    EXPECT_EQ(c.server("554 5.7.1 no service\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 554, "5.7.1", "EHLO");
}

TEST(ClientSession, EhloRefusedTemporarilyFails) {
    Client c;
    c.server(kGreeting);
    EXPECT_EQ(c.server("421 4.3.2 closing\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 421, "4.3.2", "EHLO");
}

TEST(ClientSession, HeloRefusedFails) {
    Client c;
    c.server(kGreeting);
    c.server("500 no\r\n");
    EXPECT_EQ(c.server("550 5.7.1 not you\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 550, "5.7.1", "HELO");
}

TEST(ClientSession, HeloFallbackFailsWhenTlsIsRequired) {
    Client c(with_starttls(true));
    c.server(kGreeting);
    EXPECT_EQ(c.server("502 no\r\n"), "HELO client.example\r\n");
    EXPECT_EQ(c.server("250 mx.example\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 451, "4.7.4", "HELO");
}

// --- STARTTLS -----------------------------------------------------------------------------------

TEST(ClientSession, StartTlsIsIssuedWhenWantedAndOffered) {
    Client c(with_starttls());
    c.server(kGreeting);
    EXPECT_EQ(c.server(ehlo({"PIPELINING", "DSN", "STARTTLS"})), "STARTTLS\r\n");
    EXPECT_EQ(c.server("220 2.0.0 ready to start TLS\r\n"), "<starttls>");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kNothing);
    EXPECT_EQ(c.tls(true), "EHLO client.example\r\n");
    EXPECT_TRUE(c.s.tls_active());
    EXPECT_EQ(c.server(ehlo({"PIPELINING"})), "<ready>");
    // What the server said before TLS is forgotten (RFC 3207 section 4.2).
    EXPECT_TRUE(c.s.capabilities().pipelining);
    EXPECT_FALSE(c.s.capabilities().dsn);
    EXPECT_FALSE(c.s.capabilities().starttls);
}

TEST(ClientSession, StartTlsIsNotIssuedTwice) {
    Client c(with_starttls(true));
    c.server(kGreeting);
    EXPECT_EQ(c.server(ehlo({"STARTTLS"})), "STARTTLS\r\n");
    EXPECT_EQ(c.server("220 go ahead\r\n"), "<starttls>");
    EXPECT_EQ(c.tls(true), "EHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo({"STARTTLS"})), "<ready>");
}

TEST(ClientSession, StartTlsIsNotIssuedWhenNotWanted) {
    auto c = ready({"STARTTLS"});
    EXPECT_TRUE(c.s.capabilities().starttls);
    EXPECT_FALSE(c.s.tls_active());
}

TEST(ClientSession, RequiredTlsFailsWhenStartTlsIsNotOffered) {
    Client c(with_starttls(true));
    c.server(kGreeting);
    EXPECT_EQ(c.server(ehlo({"PIPELINING"})), "QUIT\r\n<failed>");
    expect_failure(c, 451, "4.7.4", "EHLO");
}

TEST(ClientSession, StartTlsRefusedGoesOnInPlainTextWhenTlsIsNotRequired) {
    Client c(with_starttls());
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    EXPECT_EQ(c.server("454 4.7.0 TLS not available\r\n"), "<ready>");
    EXPECT_FALSE(c.s.tls_active());
}

TEST(ClientSession, StartTlsRefusedFailsWhenTlsIsRequired) {
    Client c(with_starttls(true));
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    EXPECT_EQ(c.server("454 4.7.0 TLS not available\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 451, "4.7.5", "STARTTLS");
    EXPECT_NE(c.s.failure().text.find("454 4.7.0"), std::string::npos);
}

TEST(ClientSession, FailedHandshakeFailsTheSessionWithoutMoreCommands) {
    Client c(with_starttls());
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    c.server("220 go ahead\r\n");
    EXPECT_EQ(c.tls(false), "<failed>");
    expect_failure(c, 451, "4.7.5", "STARTTLS");
}

TEST(ClientSession, EhloRefusedAfterTlsIsNotRetriedWithHelo) {
    Client c(with_starttls());
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    c.server("220 go ahead\r\n");
    c.tls(true);
    EXPECT_EQ(c.server("502 5.5.1 no\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 502, "5.5.1", "EHLO");
}

TEST(ClientSession, TlsStartedOutsideAHandshakeIsIgnored) {
    Client c(with_starttls());
    EXPECT_EQ(c.tls(true), "");
    EXPECT_FALSE(c.s.tls_active());
    EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
}

// RFC 3207 4.2 and the CVE-2011-0411 class: bytes after the 220 to STARTTLS, whether a whole
// reply or a part of one, would be read as if they came over TLS; the session gives up instead.
TEST(ClientSession, RepliesInjectedAfterTheStartTlsReplyFailTheSession) {
    Client c(with_starttls());
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    EXPECT_EQ(c.server("220 go ahead\r\n250 injected\r\n"), "<failed>");
    expect_failure(c, 451, "4.7.0", "STARTTLS");
}

TEST(ClientSession, PartOfAReplyAfterTheStartTlsReplyFailsTheSession) {
    Client c(with_starttls());
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    EXPECT_EQ(c.server("220 2.0.0 go ahead\r\n250 "), "<failed>");
    expect_failure(c, 451, "4.7.0", "STARTTLS");
}

TEST(ClientSession, ReplyDuringTheHandshakeFailsTheSession) {
    Client c(with_starttls());
    c.server(kGreeting);
    c.server(ehlo({"STARTTLS"}));
    EXPECT_EQ(c.server("220 go ahead\r\n"), "<starttls>");
    EXPECT_EQ(c.server("250 injected\r\n"), "<failed>");
    expect_failure(c, 451, "4.5.0", "reply");
}

// --- RSET, QUIT ---------------------------------------------------------------------------------

TEST(ClientSession, ResetSendsRsetAndIsReadyAfterIts250) {
    auto c = ready({"PIPELINING"});
    EXPECT_EQ(c.reset(), "RSET\r\n");
    EXPECT_FALSE(c.s.ready());
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kCommand);
    EXPECT_EQ(c.server("250 2.0.0 ok\r\n"), "<ready>");
    EXPECT_TRUE(c.s.ready());
}

TEST(ClientSession, RefusedResetFailsTheSession) {
    auto c = ready({});
    c.reset();
    EXPECT_EQ(c.server("421 4.3.2 bye\r\n"), "QUIT\r\n<failed>");
    expect_failure(c, 421, "4.3.2", "RSET");
}

TEST(ClientSession, ResetOutsideTheReadyStateIsIgnored) {
    Client c;
    EXPECT_EQ(c.reset(), "");
    auto r = ready({"PIPELINING"});
    r.send(message());
    EXPECT_EQ(r.reset(), "");
}

TEST(ClientSession, QuitSendsQuitOnceAndIgnoresTheReply) {
    auto c = ready({});
    EXPECT_EQ(c.quit(), "QUIT\r\n");
    EXPECT_EQ(c.quit(), "");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kCommand);
    EXPECT_EQ(c.server("221 2.0.0 bye\r\n"), "");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kNothing);
    EXPECT_EQ(c.quit(), "");
}

TEST(ClientSession, QuitAfterAFailureSendsNothing) {
    Client c;
    c.server("554 no\r\n");
    EXPECT_EQ(c.quit(), "");
}

// --- replies out of turn, garbage ---------------------------------------------------------------

TEST(ClientSession, ReplyWhenNoCommandIsOutstandingFailsTheSession) {
    auto c = ready({});
    EXPECT_EQ(c.server("250 surprise\r\n"), "<failed>");
    expect_failure(c, 451, "4.5.0", "reply");
    EXPECT_EQ(c.s.failure().text, "unexpected reply: 250 surprise");
}

TEST(ClientSession, ExtraReplyAfterTheTransactionFailsTheSession) {
    auto c = ready({"PIPELINING"});
    c.send(message());
    EXPECT_EQ(c.server("250 ok\r\n250 ok\r\n354 go\r\n"), "<body>");
    EXPECT_EQ(c.server("250 queued\r\n250 again\r\n"), "<done><failed>");
    EXPECT_EQ(results(c.s), "250 queued");
    expect_failure(c, 451, "4.5.0", "reply");
}

TEST(ClientSession, GarbageInsteadOfAGreetingFailsTheSession) {
    Client c;
    EXPECT_EQ(c.server("HTTP/1.1 400 Bad Request\r\n"), "<failed>");
    expect_failure(c, 451, "4.5.0", "reply");
    EXPECT_NE(c.s.failure().text.find("protocol error"), std::string::npos);
}

TEST(ClientSession, GarbageReplyMidTransactionFailsTheSession) {
    auto c = ready({"PIPELINING"});
    c.send(message());
    EXPECT_EQ(c.server("250 ok\r\n25O ok\r\n"), "<failed>");
    expect_failure(c, 451, "4.5.0", "reply");
}

TEST(ClientSession, OverlongReplyFailsTheSession) {
    auto c = ready({});
    c.send(message());
    EXPECT_EQ(c.server("250 " + std::string(ReplyParser::kMaxLine * 2, 'x')), "<failed>");
    expect_failure(c, 451, "4.5.0", "reply");
}

TEST(ClientSession, NothingHappensAfterAFailure) {
    Client c;
    c.server("garbage\r\n");
    EXPECT_EQ(c.server(kGreeting), "");
    EXPECT_EQ(c.send(message()), "");
    EXPECT_EQ(c.reset(), "");
    EXPECT_EQ(c.s.waiting(), ClientSession::Waiting::kNothing);
}

// --- server replies split at every byte ---------------------------------------------------------

// A whole conversation: what the server sends in each turn, and what the client must answer.
struct Dialog {
    const char* name;
    ClientOptions options;
    OutboundMessage message;
    std::vector<std::string> turns;
    std::string expected;  // every action of the client, in order
    std::string results;
};

// Plays `d` with each turn cut into the pieces `cut(turn index, turn)` gives. The driver sends the
// message on the first <ready>, quits on <done> and reports a good TLS handshake.
template <class Cut>
std::string play(const Dialog& d, Cut cut, std::string* final_results = nullptr) {
    ClientSession s(d.options);
    bool sent = false;
    std::string log;
    auto drive = [&] {
        for (auto actions = s.take_actions(); !actions.empty(); actions = s.take_actions()) {
            log += show(actions);
            for (const auto& a : actions) {
                if (a.kind == ClientActionKind::kReady && !sent) {
                    sent = true;
                    s.send_message(d.message);
                } else if (a.kind == ClientActionKind::kDone) {
                    s.quit();
                } else if (a.kind == ClientActionKind::kStartTls) {
                    s.tls_started(true);
                }
            }
        }
    };
    for (std::size_t t = 0; t < d.turns.size(); ++t)
        for (std::string_view piece : cut(t, std::string_view(d.turns[t]))) {
            s.receive(piece);
            drive();
        }
    if (final_results) *final_results = results(s);
    return log;
}

std::vector<Dialog> dialogs() {
    std::vector<Dialog> out;

    auto pipelined = message(kThree);
    pipelined.recipients[0].notify.failure = true;
    out.push_back(
        Dialog{"pipelined",
               plain(),
               pipelined,
               {kGreeting,
                "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-DSN\r\n250 8BITMIME\r\n",
                "250 2.1.0 ok\r\n250 2.1.5 ok\r\n450 4.2.0 busy\r\n550-5.1.1 unknown\r\n"
                "550 5.1.1 user\r\n354 go ahead\r\n",
                "250 2.0.0 queued as X\r\n", "221 2.0.0 bye\r\n"},
               "EHLO client.example\r\n"
               "<ready>MAIL FROM:<alice@a.example> SIZE=1234\r\n"
               "RCPT TO:<bob@b.example> NOTIFY=FAILURE\r\nRCPT TO:<carol@c.example>\r\n"
               "RCPT TO:<dave@d.example>\r\nDATA\r\n"
               "<body>"
               "<done>QUIT\r\n",
               "250 2.0.0 queued as X | 450 4.2.0 busy | 550 5.1.1 unknown user"});

    out.push_back(
        Dialog{"starttls, lock-step, chunking",
               with_starttls(true),
               message(kTwo),
               {kGreeting, "250-mx.example\r\n250-CHUNKING\r\n250 STARTTLS\r\n",
                "220 2.0.0 go ahead\r\n", "250-mx.example\r\n250 CHUNKING\r\n", "250 2.1.0 ok\r\n",
                "550 5.1.1 unknown\r\n", "250 2.1.5 ok\r\n", "250 2.0.0 queued\r\n", "221 bye\r\n"},
               "EHLO client.example\r\n"
               "STARTTLS\r\n"
               "<starttls>EHLO client.example\r\n"
               "<ready>MAIL FROM:<alice@a.example>\r\n"
               "RCPT TO:<bob@b.example>\r\n"
               "RCPT TO:<carol@c.example>\r\n"
               "<body:BDAT 1234 LAST\r\n>"
               "<done>QUIT\r\n",
               "550 5.1.1 unknown | 250 2.0.0 queued"});

    auto strict = message();
    strict.requiretls = true;
    out.push_back(Dialog{
        "starttls, REQUIRETLS (RFC 8689)",
        with_starttls(true),
        strict,
        {kGreeting, ehlo({"STARTTLS"}), "220 2.0.0 go ahead\r\n",
         ehlo({"PIPELINING", "REQUIRETLS"}), "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n",
         "250 2.0.0 queued\r\n", "221 bye\r\n"},
        "EHLO client.example\r\n"
        "STARTTLS\r\n"
        "<starttls>EHLO client.example\r\n"
        "<ready>MAIL FROM:<alice@a.example> REQUIRETLS\r\n"
        "RCPT TO:<bob@b.example>\r\nDATA\r\n"
        "<body>"
        "<done>QUIT\r\n",
        "250 2.0.0 queued"});

    out.push_back(Dialog{"pipelined, every recipient refused",
                         plain(),
                         message(kTwo),
                         {kGreeting, ehlo({"PIPELINING"}),
                          "250 ok\r\n550 5.1.1 a\r\n550 5.1.1 b\r\n554 5.5.1 no recipients\r\n",
                          "250 2.0.0 ok\r\n", "221 bye\r\n"},
                         "EHLO client.example\r\n"
                         "<ready>MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\n"
                         "RCPT TO:<carol@c.example>\r\nDATA\r\n"
                         "RSET\r\n"
                         "<done>QUIT\r\n",
                         "550 5.1.1 a | 550 5.1.1 b"});
    return out;
}

auto whole_turns() {
    return [](std::size_t, std::string_view turn) { return std::vector<std::string_view>{turn}; };
}

TEST(ClientSessionSplit, DialogsGiveTheExpectedCommandsAndResults) {
    for (const auto& d : dialogs()) {
        std::string res;
        EXPECT_EQ(play(d, whole_turns(), &res), d.expected) << d.name;
        EXPECT_EQ(res, d.results) << d.name;
    }
}

TEST(ClientSessionSplit, EveryServerTurnSplitAtEveryByteGivesTheSameDialog) {
    for (const auto& d : dialogs()) {
        for (std::size_t split_turn = 0; split_turn < d.turns.size(); ++split_turn) {
            for (std::size_t at = 0; at <= d.turns[split_turn].size(); ++at) {
                auto cut = [&](std::size_t t, std::string_view turn) {
                    if (t != split_turn) return std::vector<std::string_view>{turn};
                    return std::vector<std::string_view>{turn.substr(0, at), turn.substr(at)};
                };
                std::string res;
                ASSERT_EQ(play(d, cut, &res), d.expected)
                    << d.name << ": turn " << split_turn << " split at " << at;
                ASSERT_EQ(res, d.results) << d.name << ": turn " << split_turn << " at " << at;
            }
        }
    }
}

TEST(ClientSessionSplit, PipelinedRepliesSplitAtEveryPairOfBytesGiveTheSameDialog) {
    const auto d = dialogs()[0];
    const std::size_t turn_index = 2;  // the MAIL, RCPT and DATA replies
    const std::size_t n = d.turns[turn_index].size();
    for (std::size_t i = 0; i <= n; ++i) {
        for (std::size_t j = i; j <= n; ++j) {
            auto cut = [&](std::size_t t, std::string_view turn) {
                if (t != turn_index) return std::vector<std::string_view>{turn};
                return std::vector<std::string_view>{turn.substr(0, i), turn.substr(i, j - i),
                                                     turn.substr(j)};
            };
            ASSERT_EQ(play(d, cut), d.expected) << "split at " << i << "," << j;
        }
    }
}

TEST(ClientSessionSplit, EveryServerTurnOneByteAtATimeGivesTheSameDialog) {
    for (const auto& d : dialogs()) {
        auto bytes = [](std::size_t, std::string_view turn) {
            std::vector<std::string_view> out;
            for (std::size_t i = 0; i < turn.size(); ++i)
                out.push_back(turn.substr(i, 1));
            return out;
        };
        std::string res;
        EXPECT_EQ(play(d, bytes, &res), d.expected) << d.name;
        EXPECT_EQ(res, d.results) << d.name;
    }
}

}  // namespace
}  // namespace tern::smtp::test
