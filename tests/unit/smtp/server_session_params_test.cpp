// Unit tests of what ServerSession accepts in MAIL and RCPT: address syntax (RFC 5321 4.1.2,
// RFC 6531) and the parameters of SIZE, BODY, SMTPUTF8, DSN and AUTH. Driven by byte strings.
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

const std::string kUtf8Local = "jos\xC3\xA9";  // "josé"

// --- addresses ---------------------------------------------------------------------------------

TEST(ServerSessionAddress, BadSenderSyntax) {
    auto d = after_ehlo();
    for (std::string_view bad :
         {"MAIL FROM:<a>", "MAIL FROM:a@a.example", "MAIL FROM:<a@a.example",
          "MAIL FROM:<a@@a.example>", "MAIL FROM:", "MAIL FROM:<a b@c.example>"})
        EXPECT_EQ(codes(d.cmd(bad)), "501 5.1.7") << bad;
    EXPECT_TRUE(d.checked_senders.empty());
}

TEST(ServerSessionAddress, BadRecipientSyntax) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    for (std::string_view bad :
         {"RCPT TO:<b>", "RCPT TO:b@b.example", "RCPT TO:<>", "RCPT TO:<b@-b.example>", "RCPT TO:"})
        EXPECT_EQ(codes(d.cmd(bad)), "553 5.1.3") << bad;
    EXPECT_TRUE(d.checked_recipients.empty());
}

TEST(ServerSessionAddress, NullSenderAccepted) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<>")), "250 2.1.0");
    EXPECT_EQ(d.checked_senders, std::vector<std::string>{"<>"});
    d.cmd("RCPT TO:<b@b.example>");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    EXPECT_TRUE(d.envelopes[0].sender.null());
}

TEST(ServerSessionAddress, PostmasterAccepted) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<postmaster>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<PostMaster>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<postmaster@b.example>")), "250 2.1.5");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    ASSERT_EQ(d.envelopes[0].recipients.size(), 2u);  // <postmaster> twice is one recipient
    EXPECT_TRUE(d.envelopes[0].recipients[0].path.bare_postmaster);
}

TEST(ServerSessionAddress, PostmasterIsNotASender) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<postmaster>")), "501 5.1.7");
}

TEST(ServerSessionAddress, SourceRoutesAccepted) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<@relay.example:a@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<@r1.example,@r2.example:b@b.example>")), "250 2.1.5");
    EXPECT_EQ(d.checked_senders, std::vector<std::string>{"<a@a.example>"});
    EXPECT_EQ(d.checked_recipients, std::vector<std::string>{"<b@b.example>"});
}

TEST(ServerSessionAddress, QuotedAndLiteralAddresses) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<\"john doe\"@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@[192.0.2.7]>")), "250 2.1.5");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<c@[IPv6:2001:db8::7]>")), "250 2.1.5");
}

TEST(ServerSessionAddress, Utf8SenderNeedsSmtputf8) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<" + kUtf8Local + "@a.example>")), "553 5.6.7");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<" + kUtf8Local + "@a.example> SMTPUTF8")), "250 2.1.0");
}

TEST(ServerSessionAddress, Utf8RecipientNeedsSmtputf8OnMail) {
    auto d = after_ehlo();
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<" + kUtf8Local + "@b.example>")), "553 5.6.7");
    d.cmd("RSET");
    d.cmd("MAIL FROM:<a@a.example> SMTPUTF8");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<" + kUtf8Local + "@\xE4\xBE\x8B.example>")), "250 2.1.5");
}

TEST(ServerSessionAddress, Utf8RefusedAfterHelo) {
    SessionDriver d;
    d.cmd("HELO client.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<" + kUtf8Local + "@a.example>")), "553 5.6.7");
}

TEST(ServerSessionAddress, Utf8RefusedWhenNotOffered) {
    auto o = default_options();
    o.smtputf8 = false;
    auto d = after_ehlo(o);
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<" + kUtf8Local + "@a.example> SMTPUTF8")), "553 5.6.7");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SMTPUTF8")), "555 5.5.4");
}

TEST(ServerSessionAddress, MalformedUtf8IsASyntaxError) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<jos\xC3@a.example> SMTPUTF8")), "501 5.1.7");
}

// --- parameters --------------------------------------------------------------------------------

TEST(ServerSessionParams, UnsupportedParameter) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> FOO=bar")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> BODY=BINARYMIME")), "555 5.5.4");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> FOO")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> SIZE=10")), "555 5.5.4");
}

TEST(ServerSessionParams, DuplicateParameter) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=1 SIZE=2")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> BODY=7BIT body=8BITMIME")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SMTPUTF8 SMTPUTF8")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> RET=FULL RET=HDRS")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a ENVID=b")), "501 5.5.4");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> NOTIFY=NEVER NOTIFY=NEVER")), "501 5.5.4");
    EXPECT_EQ(
        codes(d.cmd("RCPT TO:<b@b.example> ORCPT=rfc822;b@b.example ORCPT=rfc822;c@b.example")),
        "501 5.5.4");
}

TEST(ServerSessionParams, MalformedParameters) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>SIZE=1")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=ten")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> =1")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> RET=ALL")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SMTPUTF8=yes")), "501 5.5.4");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> NOTIFY=NEVER,SUCCESS")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> NOTIFY=SOMETIMES")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> ORCPT=b@b.example")), "501 5.5.4");
}

TEST(ServerSessionParams, ParametersNeedEhlo) {
    SessionDriver d;
    d.cmd("HELO client.example");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=10")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example>")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> NOTIFY=NEVER")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>")), "250 2.1.5");
}

TEST(ServerSessionParams, TrailingSpacesAreTolerated) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ")), "250 2.1.0");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example>  ")), "250 2.1.5");
}

TEST(ServerSessionParams, MailParametersReachTheEnvelope) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> SIZE=1234 BODY=8BITMIME RET=HDRS "
                          "ENVID=QQ+2B314+3Dx")),
              "250 2.1.0");
    ASSERT_EQ(d.checked_params.size(), 1u);
    const auto& p = d.checked_params[0];
    EXPECT_EQ(p.size, 1234u);
    EXPECT_EQ(p.body, BodyType::k8BitMime);
    EXPECT_EQ(p.ret, DsnRet::kHeaders);
    EXPECT_EQ(p.envid, "QQ+314=x");
    d.cmd("RCPT TO:<b@b.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@b.example");
    d.cmd("RCPT TO:<c@b.example> NOTIFY=never");
    d.cmd("RCPT TO:<d@b.example>");
    d.cmd("DATA");
    ASSERT_EQ(d.envelopes.size(), 1u);
    const Envelope& e = d.envelopes[0];
    EXPECT_EQ(e.mail.size, 1234u);
    EXPECT_EQ(e.mail.body, BodyType::k8BitMime);
    EXPECT_EQ(e.mail.ret, DsnRet::kHeaders);
    EXPECT_EQ(e.mail.envid, "QQ+314=x");
    ASSERT_EQ(e.recipients.size(), 3u);
    EXPECT_TRUE(e.recipients[0].params.notify.success);
    EXPECT_TRUE(e.recipients[0].params.notify.failure);
    EXPECT_FALSE(e.recipients[0].params.notify.delay);
    EXPECT_EQ(e.recipients[0].params.orcpt, "rfc822;b+x@b.example");
    EXPECT_TRUE(e.recipients[1].params.notify.never);
    EXPECT_EQ(e.recipients[1].params.notify.str(), "NEVER");
    EXPECT_FALSE(e.recipients[2].params.notify.given());
    EXPECT_TRUE(e.recipients[2].params.orcpt.empty());
}

TEST(ServerSessionParams, RetFullAndBody7Bit) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ret=full body=7bit")), "250 2.1.0");
    ASSERT_EQ(d.checked_params.size(), 1u);
    EXPECT_EQ(d.checked_params[0].ret, DsnRet::kFull);
    EXPECT_EQ(d.checked_params[0].body, BodyType::k7Bit);
}

TEST(ServerSessionParams, BadXtextIsRefused) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+2")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+zz")), "501 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=a+2b")), "501 5.5.4");  // lower-case hex
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> ORCPT=rfc822;b+4")), "501 5.5.4");
}

TEST(ServerSessionParams, DsnParametersRefusedWhenDsnIsOff) {
    auto o = default_options();
    o.dsn = false;
    auto d = after_ehlo(o);
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> RET=FULL")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> ENVID=x")), "555 5.5.4");
    d.cmd("MAIL FROM:<a@a.example>");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> NOTIFY=NEVER")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("RCPT TO:<b@b.example> ORCPT=rfc822;b@b.example")), "555 5.5.4");
}

TEST(ServerSessionParams, EightBitMimeRefusedWhenOff) {
    auto o = default_options();
    o.eight_bit_mime = false;
    auto d = after_ehlo(o);
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> BODY=8BITMIME")), "555 5.5.4");
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> BODY=7BIT")), "250 2.1.0");
}

TEST(ServerSessionParams, AuthParameterOnlyWithAuth) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.cmd("MAIL FROM:<a@a.example> AUTH=<>")), "555 5.5.4");

    auto o = default_options();
    o.auth_mechanisms = {"PLAIN"};
    auto e = after_ehlo(o);
    EXPECT_EQ(codes(e.cmd("MAIL FROM:<a@a.example> AUTH=a+2Bb@a.example")), "250 2.1.0");
    ASSERT_EQ(e.checked_params.size(), 1u);
    EXPECT_EQ(e.checked_params[0].auth, "a+b@a.example");
}

}  // namespace
}  // namespace tern::smtp::test
