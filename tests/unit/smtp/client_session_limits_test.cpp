// Unit tests of the client's side of RFC 9422 LIMITS: parse_limits() on good, odd and broken
// parameter lists, the LIMITS line of a real EHLO reply fed as bytes to a ClientSession, the
// MAILMAX count of a connection, and how many recipients one transaction may carry.
#include <gtest/gtest.h>

#include "client_driver.h"
#include "smtp/limits.h"

namespace tern::smtp::test {
namespace {

ServerLimits limits(std::size_t mail, std::size_t rcpt, std::size_t domains = 0) {
    return ServerLimits{mail, rcpt, domains};
}

// --- parse_limits ---------------------------------------------------------------------------

TEST(ParseLimits, TheRfcExample) {
    EXPECT_EQ(parse_limits("RCPTMAX=20 MAILMAX=5"), limits(5, 20));
    EXPECT_EQ(parse_limits("MAILMAX=1000 RCPTMAX=50000"), limits(1000, 50000));  // Exim 4.98
    EXPECT_EQ(parse_limits("RCPTDOMAINMAX=3"), limits(0, 0, 3));
}

TEST(ParseLimits, NamesAreCaseInsensitive) {
    EXPECT_EQ(parse_limits("rcptmax=7 MailMax=2 RcptDomainMax=1"), limits(2, 7, 1));
}

TEST(ParseLimits, UnknownLimitsAreIgnored) {
    EXPECT_EQ(parse_limits("X-FUTURE=abc RCPTMAX=9 SOMETHING_ELSE=1=2 MAILMAX=4"), limits(4, 9));
}

TEST(ParseLimits, BadValuesOfKnownLimitsAreIgnoredAlone) {
    // 1*6DIGIT above zero (RFC 9422 section 4); the other limits still count.
    for (std::string_view bad : {"RCPTMAX=0", "RCPTMAX=1234567", "RCPTMAX=-5", "RCPTMAX=5x",
                                 "RCPTMAX=0x10", "RCPTMAX=+5", "RCPTMAX=5.0"}) {
        EXPECT_EQ(parse_limits(std::string(bad) + " MAILMAX=3"), limits(3, 0)) << bad;
    }
    EXPECT_EQ(parse_limits("RCPTMAX=999999"), limits(0, 999999));
    EXPECT_EQ(parse_limits("RCPTMAX=000012"), limits(0, 12));
}

TEST(ParseLimits, AListThatBreaksTheGrammarIsIgnoredWhole) {
    for (std::string_view bad :
         {"RCPTMAX", "RCPTMAX= MAILMAX=3", "=5 MAILMAX=3", "RCPTMAX=5;", "RCPT.MAX=5 MAILMAX=3",
          "MAILMAX=3 RCPTMAX=4\t", "MAILMAX=3 ,", "MAILMAX=3 junk", "RCPTMAX=\x80"}) {
        EXPECT_EQ(parse_limits(bad), ServerLimits{}) << ::testing::PrintToString(bad);
    }
}

TEST(ParseLimits, EmptyAndSpacing) {
    EXPECT_EQ(parse_limits(""), ServerLimits{});
    EXPECT_EQ(parse_limits("  RCPTMAX=5   MAILMAX=6 "), limits(6, 5));
}

TEST(ParseLimits, ALimitGivenTwiceCountsWithItsSmallerValue) {
    EXPECT_EQ(parse_limits("RCPTMAX=50 RCPTMAX=10 RCPTMAX=30"), limits(0, 10));
    EXPECT_EQ(parse_limits("RCPTMAX=0 RCPTMAX=10"), limits(0, 10));
}

// --- recipients per transaction --------------------------------------------------------------

const std::vector<std::string> kFive = {"a@x.example", "b@x.example", "c@y.example", "d@Y.EXAMPLE",
                                        "e@z.example"};

TEST(RecipientsPerTransaction, TheSmallerOfOursAndRcptMax) {
    EXPECT_EQ(recipients_per_transaction(kFive, 100, {}), 5u);
    EXPECT_EQ(recipients_per_transaction(kFive, 3, {}), 3u);
    EXPECT_EQ(recipients_per_transaction(kFive, 100, limits(0, 2)), 2u);
    EXPECT_EQ(recipients_per_transaction(kFive, 1, limits(0, 2)), 1u);
    EXPECT_EQ(recipients_per_transaction(kFive, 0, limits(0, 4)), 4u);
    EXPECT_EQ(recipients_per_transaction({}, 100, limits(0, 2)), 0u);
}

TEST(RecipientsPerTransaction, RcptDomainMaxCountsDistinctDomainsFromTheFront) {
    EXPECT_EQ(recipients_per_transaction(kFive, 100, limits(0, 0, 1)), 2u);
    EXPECT_EQ(recipients_per_transaction(kFive, 100, limits(0, 0, 2)), 4u);  // y and Y are one
    EXPECT_EQ(recipients_per_transaction(kFive, 100, limits(0, 3, 2)), 3u);
    std::vector<std::string> others = {"postmaster", "a@x.example"};
    EXPECT_EQ(recipients_per_transaction(others, 100, limits(0, 0, 1)), 1u);
}

// --- the client session ----------------------------------------------------------------------

TEST(ClientSessionLimits, ParsedFromTheEhloReplyBytes) {
    Client c;
    EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
    EXPECT_EQ(c.server("250-mx.example\r\n250-SMTPUTF8\r\n250-LIMITS RCPTMAX=20 MAILMAX=5\r\n"
                       "250-SIZE 100000000\r\n250 PIPELINING\r\n"),
              "<ready>");
    EXPECT_EQ(c.s.capabilities().limits, limits(5, 20));
    EXPECT_TRUE(c.s.capabilities().pipelining);
    EXPECT_EQ(c.s.capabilities().size_limit, 100000000u);
}

TEST(ClientSessionLimits, BrokenLimitsLineChangesNothingElse) {
    auto c = ready({"LIMITS RCPTMAX=5;MAILMAX=1", "PIPELINING"});
    EXPECT_EQ(c.s.capabilities().limits, ServerLimits{});
    EXPECT_TRUE(c.s.capabilities().pipelining);
    // No MAILMAX: any number of transactions.
    for (int i = 0; i < 3; ++i) {
        c.send(message());
        c.server("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n");
        c.server("250 2.0.0 ok\r\n");
    }
    EXPECT_EQ(c.s.transactions(), 3u);
    EXPECT_FALSE(c.s.transaction_limit_reached());
}

TEST(ClientSessionLimits, LimitsAfterStartTlsReplaceThoseBefore) {
    Client c(with_starttls());
    c.server(kGreeting);
    EXPECT_EQ(c.server(ehlo({"STARTTLS", "LIMITS MAILMAX=1"})), "STARTTLS\r\n");
    EXPECT_EQ(c.server("220 2.0.0 go\r\n"), "<starttls>");
    EXPECT_EQ(c.tls(true), "EHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo({"LIMITS RCPTMAX=3"})), "<ready>");
    EXPECT_EQ(c.s.capabilities().limits, limits(0, 3));
}

TEST(ClientSessionLimits, HeloFallbackHasNoLimits) {
    Client c;
    c.server(kGreeting);
    EXPECT_EQ(c.server("502 5.5.1 no\r\n"), "HELO client.example\r\n");
    EXPECT_EQ(c.server("250 mx.example\r\n"), "<ready>");
    EXPECT_EQ(c.s.capabilities().limits, ServerLimits{});
}

TEST(ClientSessionLimits, MailMaxCountsEveryMailCommand) {
    auto c = ready({"LIMITS MAILMAX=2"});
    EXPECT_FALSE(c.s.transaction_limit_reached());
    // A refused MAIL counts too (RFC 9422: accepted or not).
    EXPECT_EQ(c.send(message()), "MAIL FROM:<alice@a.example>\r\n");
    EXPECT_EQ(c.server("451 4.3.0 not now\r\n"), "<done>");
    EXPECT_EQ(c.s.transactions(), 1u);
    EXPECT_FALSE(c.s.transaction_limit_reached());
    EXPECT_EQ(c.reset(), "RSET\r\n");
    EXPECT_EQ(c.server("250 2.0.0 ok\r\n"), "<ready>");
    EXPECT_EQ(c.s.transactions(), 1u);  // RSET is not a transaction
    c.send(message());
    c.server("250 2.1.0 ok\r\n");
    c.server("250 2.1.5 ok\r\n");
    c.server("354 go\r\n");
    EXPECT_EQ(c.server("250 2.0.0 queued\r\n"), "<done>");
    EXPECT_EQ(c.s.transactions(), 2u);
    EXPECT_TRUE(c.s.transaction_limit_reached());
}

TEST(ClientSessionLimits, AMessageWithinRcptMaxGoesInOneTransaction) {
    auto c = ready({"PIPELINING", "LIMITS RCPTMAX=3"});
    auto n = recipients_per_transaction(kThree, 100, c.s.capabilities().limits);
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(c.send(message(kThree)),
              "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\n"
              "RCPT TO:<carol@c.example>\r\nRCPT TO:<dave@d.example>\r\nDATA\r\n");
}

}  // namespace
}  // namespace tern::smtp::test
