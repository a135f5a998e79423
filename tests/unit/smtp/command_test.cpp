// Unit tests of the SMTP command grammar: split_command, parse_mail, parse_rcpt, parse_bdat and
// parse_helo, each case a line a client could send and the command or refusal it must give.
#include "smtp/command.h"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

Offered esmtp() {
    Offered o;
    o.esmtp = true;
    o.max_size = 1000;
    return o;
}

// "553 5.1.3" for a refusal, "ok" for a command.
template <class T>
std::string wire(const std::expected<T, Reply>& r) {
    if (r) return "ok";
    return std::to_string(r.error().code) + " " + r.error().status;
}

TEST(SplitCommand, Verbs) {
    struct Row {
        const char* line;
        Verb verb;
        const char* args;
    };
    for (const Row& row : {
             Row{"EHLO client.example", Verb::kEhlo, "client.example"},
             Row{"helo x", Verb::kHelo, "x"},
             Row{"MAIL FROM:<a@b>", Verb::kMail, "FROM:<a@b>"},
             Row{"rcpt TO:<a@b>", Verb::kRcpt, "TO:<a@b>"},
             Row{"DATA", Verb::kData, ""},
             Row{"BDAT 10 LAST", Verb::kBdat, "10 LAST"},
             Row{"RSET", Verb::kRset, ""},
             Row{"NOOP", Verb::kNoop, ""},
             Row{"QUIT", Verb::kQuit, ""},
             Row{"VRFY bob", Verb::kVrfy, "bob"},
             Row{"EXPN list", Verb::kExpn, "list"},
             Row{"HELP", Verb::kHelp, ""},
             Row{"StartTLS", Verb::kStartTls, ""},
             Row{"AUTH PLAIN", Verb::kAuth, "PLAIN"},
             Row{"XCLIENT ADDR=1", Verb::kUnknown, "ADDR=1"},
             Row{"", Verb::kUnknown, ""},
             Row{"MAILFROM:<a@b>", Verb::kUnknown, ""},
             Row{"DATA ", Verb::kData, ""},
             Row{"NOOP  two", Verb::kNoop, " two"},
         }) {
        CommandLine c = split_command(row.line);
        EXPECT_EQ(c.verb, row.verb) << row.line;
        EXPECT_EQ(c.args, row.args) << row.line;
    }
}

TEST(ParseMail, Basic) {
    auto m = parse_mail("FROM:<alice@a.example>", esmtp());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sender.str(), "<alice@a.example>");
    EXPECT_FALSE(m->params.size);
    EXPECT_EQ(m->params.body, BodyType::kUnspecified);
}

TEST(ParseMail, PrefixIsCaseInsensitiveAndOneSpaceIsTolerated) {
    EXPECT_EQ(wire(parse_mail("from:<a@a.example>", esmtp())), "ok");
    EXPECT_EQ(wire(parse_mail("From: <a@a.example>", esmtp())), "ok");
    EXPECT_EQ(wire(parse_mail("FROM:  <a@a.example>", esmtp())), "501 5.1.7");
    EXPECT_EQ(wire(parse_mail("FROM <a@a.example>", esmtp())), "501 5.5.4");
    EXPECT_EQ(wire(parse_mail("", esmtp())), "501 5.5.4");
}

TEST(ParseMail, NullSender) {
    auto m = parse_mail("FROM:<>", esmtp());
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->sender.null());
}

TEST(ParseMail, Size) {
    auto m = parse_mail("FROM:<a@a.example> SIZE=1000", esmtp());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.size, 1000u);
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> SIZE=1001", esmtp())), "552 5.3.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> SIZE=+1", esmtp())), "501 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> SIZE", esmtp())), "501 5.5.4");
    Offered unlimited = esmtp();
    unlimited.max_size = 0;
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> SIZE=18446744073709551615", unlimited)), "ok");
}

TEST(ParseMail, Body) {
    auto m = parse_mail("FROM:<a@a.example> BODY=8bitmime", esmtp());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.body, BodyType::k8BitMime);
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> BODY", esmtp())), "501 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> BODY=BINARYMIME", esmtp())), "555 5.5.4");
}

TEST(ParseMail, Smtputf8) {
    const std::string utf8 = "FROM:<jos\xC3\xA9@a.example>";
    EXPECT_EQ(wire(parse_mail(utf8, esmtp())), "553 5.6.7");
    auto m = parse_mail(utf8 + " SMTPUTF8", esmtp());
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->params.smtputf8);
    EXPECT_TRUE(m->sender.mailbox->utf8);
    Offered helo;
    EXPECT_EQ(wire(parse_mail(utf8, helo)), "553 5.6.7");
    EXPECT_EQ(wire(parse_mail(utf8 + " SMTPUTF8", helo)), "553 5.6.7");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> SMTPUTF8", helo)), "555 5.5.4");
}

TEST(ParseMail, Utf8ParameterValueOnlyWithSmtputf8Offered) {
    Offered no_utf8 = esmtp();
    no_utf8.smtputf8 = false;
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> ENVID=\xC3\xA9", no_utf8)), "501 5.5.4");
    // Offered, the value is well-formed UTF-8 but not xtext.
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> ENVID=\xC3\xA9", esmtp())), "501 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> X=\xC3", esmtp())), "501 5.5.4");
}

TEST(ParseMail, DsnParameters) {
    auto m = parse_mail("FROM:<a@a.example> RET=FULL ENVID=id+2B1", esmtp());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.ret, DsnRet::kFull);
    EXPECT_EQ(m->params.envid, "id+1");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> ENVID=" + std::string(101, 'x'), esmtp())),
              "501 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> ENVID=" + std::string(100, 'x'), esmtp())), "ok");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> RET", esmtp())), "501 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> ENVID", esmtp())), "501 5.5.4");
}

TEST(ParseMail, AuthParameter) {
    Offered auth = esmtp();
    auth.auth = true;
    auto m = parse_mail("FROM:<a@a.example> AUTH=<>", auth);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->params.auth, "<>");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> AUTH=<>", esmtp())), "555 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> AUTH", auth)), "501 5.5.4");
}

TEST(ParseMail, ParameterSyntax) {
    for (std::string_view bad : {"FROM:<a@a.example>SIZE=1", "FROM:<a@a.example> -X",
                                 "FROM:<a@a.example> X_Y", "FROM:<a@a.example> SIZE==1",
                                 "FROM:<a@a.example> SIZE=1 SIZE=1", "FROM:<a@a.example> X=a\x01"})
        EXPECT_EQ(wire(parse_mail(bad, esmtp())), "501 5.5.4") << bad;
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example>  SIZE=1   BODY=7BIT ", esmtp())), "ok");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> X-UNKNOWN=1", esmtp())), "555 5.5.4");
    EXPECT_EQ(wire(parse_mail("FROM:<a@a.example> SIZE=1", Offered{})), "555 5.5.4");
}

TEST(ParseRcpt, Basic) {
    auto r = parse_rcpt("TO:<bob@b.example>", esmtp(), false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->recipient.str(), "<bob@b.example>");
    EXPECT_EQ(wire(parse_rcpt("to: <bob@b.example>", esmtp(), false)), "ok");
    EXPECT_EQ(wire(parse_rcpt("TO:<>", esmtp(), false)), "553 5.1.3");
    EXPECT_EQ(wire(parse_rcpt("TO <bob@b.example>", esmtp(), false)), "501 5.5.4");
}

TEST(ParseRcpt, Utf8FollowsTheMailParameter) {
    const std::string utf8 = "TO:<jos\xC3\xA9@b.example>";
    EXPECT_EQ(wire(parse_rcpt(utf8, esmtp(), false)), "553 5.6.7");
    EXPECT_EQ(wire(parse_rcpt(utf8, esmtp(), true)), "ok");
}

TEST(ParseRcpt, Notify) {
    auto r = parse_rcpt("TO:<b@b.example> NOTIFY=success,Delay", esmtp(), false);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->params.notify.success);
    EXPECT_TRUE(r->params.notify.delay);
    EXPECT_FALSE(r->params.notify.failure);
    EXPECT_EQ(r->params.notify.str(), "SUCCESS,DELAY");
    for (std::string_view bad :
         {"TO:<b@b.example> NOTIFY", "TO:<b@b.example> NOTIFY=NEVER,FAILURE",
          "TO:<b@b.example> NOTIFY=SUCCESS,SUCCESS", "TO:<b@b.example> NOTIFY=SUCCESS,",
          "TO:<b@b.example> NOTIFY=,SUCCESS", "TO:<b@b.example> NOTIFY=ALWAYS"})
        EXPECT_EQ(wire(parse_rcpt(bad, esmtp(), false)), "501 5.5.4") << bad;
}

TEST(ParseRcpt, Orcpt) {
    auto r = parse_rcpt("TO:<b@b.example> ORCPT=rfc822;x+2By@b.example", esmtp(), false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->params.orcpt, "rfc822;x+y@b.example");
    for (std::string_view bad :
         {"TO:<b@b.example> ORCPT", "TO:<b@b.example> ORCPT=;x@b", "TO:<b@b.example> ORCPT=x@b",
          "TO:<b@b.example> ORCPT=rfc_822;x@b", "TO:<b@b.example> ORCPT=rfc822;",
          "TO:<b@b.example> ORCPT=rfc822;+4"})
        EXPECT_EQ(wire(parse_rcpt(bad, esmtp(), false)), "501 5.5.4") << bad;
}

TEST(ParseRcpt, OrcptUtf8Type) {
    const std::string line = "TO:<b@b.example> ORCPT=utf-8;jos\xC3\xA9@b.example";
    auto r = parse_rcpt(line, esmtp(), true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->params.orcpt, "utf-8;jos\xC3\xA9@b.example");
    EXPECT_EQ(wire(parse_rcpt(line, esmtp(), false)), "501 5.5.4");
}

TEST(ParseRcpt, DsnNotOffered) {
    Offered o = esmtp();
    o.dsn = false;
    EXPECT_EQ(wire(parse_rcpt("TO:<b@b.example> NOTIFY=NEVER", o, false)), "555 5.5.4");
    EXPECT_EQ(wire(parse_rcpt("TO:<b@b.example> NOTIFY=NEVER", Offered{}, false)), "555 5.5.4");
}

TEST(ParseBdat, Valid) {
    auto b = parse_bdat("100");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->size, 100u);
    EXPECT_FALSE(b->last);
    b = parse_bdat("0 LAST");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->size, 0u);
    EXPECT_TRUE(b->last);
    b = parse_bdat("18446744073709551615 last");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->size, 18446744073709551615u);
}

TEST(ParseBdat, Invalid) {
    for (std::string_view bad : {"", "x", "-1", "+1", "1.5", "10 MORE", "10 LAST ", "10  LAST",
                                 " 10", "18446744073709551616", "000000000000000000001"})
        EXPECT_EQ(wire(parse_bdat(bad)), "501 5.5.4") << bad;
}

TEST(ParseHelo, Names) {
    EXPECT_EQ(parse_helo("client.example"), "client.example");
    EXPECT_EQ(parse_helo("  client.example  "), "client.example");
    EXPECT_EQ(parse_helo("client.example (comment)"), "client.example");
    EXPECT_EQ(parse_helo("[192.0.2.1]"), "[192.0.2.1]");
    EXPECT_EQ(parse_helo("\xE4\xBE\x8B.example"), "\xE4\xBE\x8B.example");
}

TEST(ParseHelo, Refused) {
    EXPECT_FALSE(parse_helo(""));
    EXPECT_FALSE(parse_helo("   "));
    EXPECT_FALSE(parse_helo("bad\x01name"));
    EXPECT_FALSE(parse_helo("bad\x7Fname"));
    EXPECT_FALSE(parse_helo("bad\tname"));
    EXPECT_FALSE(parse_helo("\xC3"));
    EXPECT_FALSE(parse_helo(std::string(256, 'a')));
    EXPECT_TRUE(parse_helo(std::string(255, 'a')));
}

}  // namespace
}  // namespace tern::smtp
