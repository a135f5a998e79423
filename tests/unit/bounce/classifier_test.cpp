// BounceClassifier: real replies of the large providers and of common MTAs, Tern's own verdicts,
// the rules file's format and errors, the operator's rules before the built-in ones, and the
// bound on a hostile pattern.
#include "bounce/classifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "test_files.h"

namespace tern::bounce {
namespace {

const BounceClassifier& builtin() {
    static auto c = BounceClassifier::create({});
    return **c;
}

struct Case {
    const char* reply;
    const char* category;
};

TEST(BounceClassifier, RealReplies) {
    const Case cases[] = {
        // Gmail
        {"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
         "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
         "550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser",
         "invalid_recipient"},
        {"452-4.2.2 The email account that you tried to reach is over quota. Please direct\r\n"
         "452 4.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaTemp",
         "mailbox_full"},
        {"550-5.7.26 This mail is unauthenticated, which poses a security risk to the\r\n"
         "550 5.7.26 sender and Gmail users, and has been blocked.",
         "authentication"},
        {"421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating\r\n"
         "421 4.7.28 from your SPF domain.",
         "rate_limited"},
        {"550-5.7.1 Our system has detected that this message is likely unsolicited\r\n"
         "550 5.7.1 mail. To reduce the amount of spam sent to Gmail, this message has been "
         "blocked.",
         "spam_content"},
        {"552-5.2.3 Your message exceeded Google's message size limits.", "message_too_large"},
        {"550-5.2.1 The email account that you tried to reach is disabled.", "inactive_mailbox"},
        // Microsoft
        {"550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
         "Internet service provider since part of their network is on our block list (S3150).",
         "reputation_block"},
        {"550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302).",
         "invalid_recipient"},
        {"451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP "
         "reputation.",
         "reputation_block"},
        // Yahoo
        {"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected "
         "volume or user complaints",
         "rate_limited"},
        {"554 5.7.9 Message not accepted for policy reasons.", "policy"},
        {"552 1 Requested mail action aborted, mailbox not found", "invalid_recipient"},
        // Postfix, Exim, Sendmail
        {"550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local "
         "recipient table",
         "invalid_recipient"},
        {"554 5.7.1 <x@example.org>: Relay access denied", "relay_denied"},
        {"450 4.2.0 <x@example.org>: Recipient address rejected: Greylisted, see "
         "http://postgrey.schweikert.ch/",
         "greylisted"},
        {"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
         "zen.spamhaus.org",
         "reputation_block"},
        {"550 Unrouteable address", "invalid_recipient"},
        {"552 5.2.2 Mailbox full", "mailbox_full"},
        {"550 5.7.1 Message rejected: infected with a virus (Eicar-Test-Signature)", "virus"},
        // Refusals of the sender say nothing about the recipient.
        {"550-Verification failed for <s@shop.example>\r\n550-Unrouteable address\r\n"
         "550 Sender verify failed",
         "sender_rejected"},
        {"553 5.1.8 <s@shop.example>... Domain of sender address s@shop.example does not exist",
         "sender_rejected"},
        {"550 5.1.7 <s@shop.example>: Sender address rejected: undeliverable address: host "
         "shop.example said: 550 5.1.1 User unknown",
         "sender_rejected"},
        {"550 5.1.8 <s@shop.example>: Sender address rejected: Domain not found",
         "sender_rejected"},
        {"550 5.7.1 Our domain does not accept mail from your server", "sender_rejected"},
        // More hard bounces of the large providers; qmail's status at the end.
        {"554 delivery error: dd This user doesn't have a yahoo.com account "
         "(x@yahoo.com) [0] - mta1234.mail.bf1.yahoo.com",
         "invalid_recipient"},
        {"550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
         "[DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]",
         "invalid_recipient"},
        {"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
         "invalid_recipient"},
        {"553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "relay_denied"},
        {"550 sorry, no mailbox here by that name. (#5.1.1)", "invalid_recipient"},
        {"450-4.2.1 The user you are trying to contact is receiving mail too quickly.",
         "rate_limited"},
        // Tern's own verdicts
        {"556 5.1.10 example.org publishes a null MX: it accepts no mail", "invalid_domain"},
        {"451 4.4.3 looking up example.org: SERVFAIL", "dns_failure"},
        {"451 4.4.1 connect to 192.0.2.1:25: Connection refused", "connection"},
        {"451 4.7.5 TLS handshake with mx.example.org failed", "tls_failure"},
        {"550 5.7.5 REQUIRETLS: no verified TLS to mx.example.org", "tls_failure"},
        {"554 5.4.6 mail for mx.example.org loops back to myself", "routing"},
        {"451 4.3.0 cannot open the spool file: x", "system"},
        // Nothing to go by
        {"421 try later", "transient"},
        {"554 no", "uncategorized"},
        {"", "uncategorized"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(builtin().classify(c.reply), c.category) << c.reply;
}

TEST(BounceClassifier, StatusMatchesComponentByComponent) {
    auto rules = parse_bounce_rules(R"([[rule]]
category = "one"
status = "5.7.1"
[[rule]]
category = "any_class"
status = "X.4.2"
[[rule]]
category = "subject"
status = "5.3"
)",
                                    "t");
    ASSERT_TRUE(rules) << rules.error().message;
    auto c = BounceClassifier::create(std::move(*rules));
    ASSERT_TRUE(c);
    EXPECT_EQ((*c)->classify("550 5.7.1 no"), "one");
    EXPECT_EQ((*c)->classify("550 5.7.01 no"), "one");
    EXPECT_NE((*c)->classify("550 5.7.10 no"), "one");
    EXPECT_EQ((*c)->classify("421 4.4.2 gone"), "any_class");
    EXPECT_EQ((*c)->classify("554 5.4.2 gone"), "any_class");
    EXPECT_EQ((*c)->classify("552 5.3.4 big"), "subject");
}

TEST(BounceClassifier, OperatorRulesComeFirstAndAllConditionsMustHold) {
    auto rules = parse_bounce_rules(R"(# ours
[[rule]]
category = "mailbox_full"
code = "550"
text = 'mailbox (is )?full'

[[rule]]
category = "provider_block"
code = "5"
status = "5.7.1"
text = '\[(RBL|TSS)\d+\]'
)",
                                    "ours.toml");
    ASSERT_TRUE(rules) << rules.error().message;
    ASSERT_EQ(rules->size(), 2u);
    EXPECT_EQ((*rules)[1].where, "ours.toml:7");
    auto c = BounceClassifier::create(std::move(*rules));
    ASSERT_TRUE(c);
    // A 550 for a full mailbox (some servers say so) is ours, not invalid_recipient.
    EXPECT_EQ((*c)->classify("550 5.1.1 Mailbox is full"), "mailbox_full");
    EXPECT_EQ((*c)->classify("554 5.7.1 [TSS04] blocked"), "provider_block");
    // Code 4: the second rule's code does not hold; the built-in rules decide.
    EXPECT_EQ((*c)->classify("451 4.7.1 [TSS04] try later"), "policy");
}

TEST(BounceClassifier, RulesFileErrorsNameTheRule) {
    struct Bad {
        const char* text;
        const char* says;
    };
    const Bad bad[] = {
        {"[[rule]]\ncategory = \"x\"\n", "at least one of"},
        {"[[rule]]\ncategory = \"Bad Name\"\ncode = \"5\"\n", "'category'"},
        {"[[rule]]\ncategory = \"x\"\ncode = \"6\"\n", "'code'"},
        {"[[rule]]\ncategory = \"x\"\ncode = \"5500\"\n", "'code'"},
        {"[[rule]]\ncategory = \"x\"\nstatus = \"5\"\n", "'status'"},
        {"[[rule]]\ncategory = \"x\"\nstatus = \"5.x.1\"\n", "'status'"},
        {"[[rule]]\ncategory = \"x\"\ntext = 5\n", "must be a string"},
        {"[[rule]]\ncategory = \"x\"\nregex = \"a\"\n", "unknown key 'regex'"},
        {"[rules]\ncategory = \"x\"\n", "unknown key 'rules'"},
        {"rule = 1\n", "[[rule]] tables"},
        {"[[rule]\n", "not TOML"},
    };
    for (const auto& b : bad) {
        auto r = parse_bounce_rules(b.text, "f.toml");
        ASSERT_FALSE(r) << b.text;
        EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
        EXPECT_TRUE(r.error().message.starts_with("f.toml")) << r.error().message;
    }
    auto bad_regex = parse_bounce_rules("[[rule]]\ncategory = \"x\"\ntext = '(a'\n", "f.toml");
    ASSERT_TRUE(bad_regex);
    auto c = BounceClassifier::create(std::move(*bad_regex));
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("f.toml:1: 'text' is not a regular expression"),
              std::string::npos)
        << c.error().message;
}

TEST(BounceClassifier, BuiltinRulesParseAndAnEmptyFileIsNoRules) {
    auto rules = parse_bounce_rules(builtin_bounce_rules(), "built-in");
    ASSERT_TRUE(rules) << rules.error().message;
    EXPECT_GT(rules->size(), 30u);
    auto none = parse_bounce_rules("# nothing yet\n", "empty");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(BounceClassifier, LoadsTheOperatorsFile) {
    testing::TempDir dir;
    std::string path = dir.path() + "/bounce.toml";
    std::ofstream(path) << "[[rule]]\ncategory = \"ours\"\ntext = 'special'\n";
    auto c = BounceClassifier::load(path);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ((*c)->classify("550 5.1.1 special user unknown"), "ours");
    auto missing = BounceClassifier::load(dir.path() + "/none.toml");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("none.toml"), std::string::npos);
}

TEST(BounceClassifier, AHostilePatternAgainstALongReplyEndsQuickly) {
    // The longest pattern an operator may write, made to backtrack, against the longest text
    // looked at: the match's step bound must end it (it runs on the queue's thread).
    std::string pattern = "(";
    while (pattern.size() < 230)
        pattern += "a?";
    pattern += ")(a|aa)+$x";
    ASSERT_LE(pattern.size(), 256u);
    auto rules =
        parse_bounce_rules("[[rule]]\ncategory = \"slow\"\ntext = '" + pattern + "'\n", "t");
    ASSERT_TRUE(rules) << rules.error().message;
    auto c = BounceClassifier::create(std::move(*rules));
    ASSERT_TRUE(c);
    std::string reply = "550 5.0.0 " + std::string(5000, 'a');
    auto start = std::chrono::steady_clock::now();
    std::string category = (*c)->classify(reply);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(category, "uncategorized");  // "$x" never matches; the built-in rules do not
    // A guard against a hang (an unbounded match), not a speed target: sanitizer builds are
    // several times slower. The release build's figure (0.36 s) is in docs/bounces.md.
    EXPECT_LT(took, std::chrono::seconds(30));
    auto longer = parse_bounce_rules(
        "[[rule]]\ncategory = \"x\"\ntext = '" + std::string(257, 'a') + "'\n", "t");
    ASSERT_FALSE(longer);
    EXPECT_NE(longer.error().message.find("longer than 256"), std::string::npos);
}

TEST(SplitReply, CodeStatusAndTextOfEveryLine) {
    auto p = split_reply("550-5.1.1 first\r\n550 5.1.1 second");
    EXPECT_EQ(p.code, "550");
    EXPECT_EQ(p.status, "5.1.1");
    EXPECT_EQ(p.text, "first second");
    auto plain = split_reply("554 no such user here");
    EXPECT_EQ(plain.code, "554");
    EXPECT_EQ(plain.status, "");
    EXPECT_EQ(plain.text, "no such user here");
    auto bare = split_reply("just text");
    EXPECT_EQ(bare.code, "");
    EXPECT_EQ(bare.text, "just text");
    EXPECT_LE(split_reply("550 " + std::string(5000, 'x')).text.size(), 512u);
    EXPECT_EQ(split_reply("553 sorry (#5.7.1)").status, "5.7.1");
    EXPECT_EQ(split_reply("553 5.7.2 sorry (#5.7.1)").status, "5.7.2");
}

}  // namespace
}  // namespace tern::bounce
