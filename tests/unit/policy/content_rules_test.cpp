// RuleSet: Postfix's header_checks syntax (delimiters, flags, negation, if/endif, continuation
// lines, every action and its reply), the errors an operator sees, and the bound on a pattern
// that would backtrack for minutes.
#include "policy/content_rules.h"

#include <gtest/gtest.h>

#include <chrono>

namespace tern::policy {
namespace {

RuleSet parsed(std::string_view text, RuleTarget target = RuleTarget::kHeader) {
    auto r = RuleSet::parse(text, "rules", target);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(*r) : RuleSet{};
}

std::string error_of(std::string_view text, RuleTarget target = RuleTarget::kHeader) {
    auto r = RuleSet::parse(text, "rules", target);
    return r ? "" : r.error().message;
}

TEST(ContentRules, FirstMatchingRuleWinsAndCaseIsIgnoredByDefault) {
    auto rules = parsed(
        "# comment\n"
        "\n"
        "/^Subject:.*viagra/  REJECT No drugs here\n"
        "/^Subject:/          WARN\n");
    EXPECT_EQ(rules.size(), 2u);
    const Rule* r = rules.match("Subject: Cheap VIAGRA now");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->action, RuleAction::kReject);
    EXPECT_EQ(r->where, "rules:3");
    ASSERT_TRUE(r->reply);
    EXPECT_EQ(r->reply->code, 550);
    EXPECT_EQ(r->reply->status, "5.7.1");
    EXPECT_EQ(r->reply->text, "No drugs here");
    r = rules.match("Subject: hello");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->action, RuleAction::kWarn);
    EXPECT_FALSE(rules.match("From: someone"));
}

TEST(ContentRules, FlagIMakesThePatternCaseSensitive) {
    auto rules = parsed("/^X-Spam: YES/i HOLD\n");
    EXPECT_TRUE(rules.match("X-Spam: YES"));
    EXPECT_FALSE(rules.match("x-spam: yes"));
}

TEST(ContentRules, AnyPunctuationDelimitsAndEscapedDelimitersStayInThePattern) {
    auto rules = parsed("|^Content-Type: text/html| DISCARD\n/a\\/b/ DUNNO\n");
    EXPECT_EQ(rules.match("Content-Type: text/html")->action, RuleAction::kDiscard);
    EXPECT_EQ(rules.match("x a/b y")->action, RuleAction::kDunno);
}

TEST(ContentRules, NegatedPatternsMatchWhatTheyDoNotMatch) {
    auto rules = parsed("!/^(From|To|Subject|Date):/ IGNORE\n");
    EXPECT_TRUE(rules.match("X-Mailer: spam"));
    EXPECT_FALSE(rules.match("Subject: s"));
}

TEST(ContentRules, IfEndifGuardTheRulesInside) {
    auto rules = parsed(
        "if /^Subject:/\n"
        "/offer/ REJECT\n"
        "if !/trusted/\n"
        "/lottery/ DEFER\n"
        "endif\n"
        "endif\n"
        "/offer/ WARN\n");
    EXPECT_EQ(rules.size(), 3u);
    EXPECT_EQ(rules.match("Subject: an offer")->action, RuleAction::kReject);
    EXPECT_EQ(rules.match("X-Note: an offer")->action, RuleAction::kWarn);
    EXPECT_EQ(rules.match("Subject: lottery")->action, RuleAction::kDefer);
    EXPECT_FALSE(rules.match("Subject: trusted lottery"));
}

TEST(ContentRules, ContinuationLinesJoinTheRuleBefore) {
    auto rules = parsed("/^Subject: x/ REJECT first part\n  and the rest\n");
    EXPECT_EQ(rules.match("Subject: x")->reply->text, "first part and the rest");
}

TEST(ContentRules, RepliesTakeTheCodeAndStatusTheRuleGives) {
    auto rules = parsed(
        "/a/ REJECT 5.7.0 Policy says no\n"
        "/b/ DEFER\n"
        "/c/ 554 5.6.0 Bad content\n"
        "/d/ 421 Try later\n"
        "/e/ REJECT 4.1.1 not a status of this class\n");
    auto r = rules.match("a")->reply;
    EXPECT_EQ(r->code, 550);
    EXPECT_EQ(r->status, "5.7.0");
    EXPECT_EQ(r->text, "Policy says no");
    r = rules.match("b")->reply;
    EXPECT_EQ(r->code, 451);
    EXPECT_EQ(r->status, "4.7.1");
    r = rules.match("c")->reply;
    EXPECT_EQ(rules.match("c")->action, RuleAction::kReject);
    EXPECT_EQ(r->code, 554);
    EXPECT_EQ(r->status, "5.6.0");
    EXPECT_EQ(r->text, "Bad content");
    r = rules.match("d")->reply;
    EXPECT_EQ(rules.match("d")->action, RuleAction::kDefer);
    EXPECT_EQ(r->code, 421);
    EXPECT_EQ(r->status, "4.7.1");
    EXPECT_EQ(r->text, "Try later");
    r = rules.match("e")->reply;
    EXPECT_EQ(r->status, "5.7.1");
    EXPECT_EQ(r->text, "4.1.1 not a status of this class");
}

TEST(ContentRules, HeaderEditsNeedAFieldAndAreRefusedInBodyRules) {
    auto rules = parsed("/^X-A:/ PREPEND X-Tagged: yes\n/^X-B:/ REPLACE X-B: clean\n");
    EXPECT_EQ(rules.match("X-A: 1")->text, "X-Tagged: yes");
    EXPECT_EQ(error_of("/x/ PREPEND not a field\n"),
              "rules:1: PREPEND needs a header field such as \"X-Tag: value\"");
    EXPECT_EQ(error_of("/x/ IGNORE\n", RuleTarget::kBody),
              "rules:1: IGNORE works in header rules only");
}

TEST(ContentRules, MistakesAreReportedWithTheirLine) {
    EXPECT_EQ(error_of("/ok/ WARN\n/x/ EXPLODE\n"), "rules:2: unknown action \"EXPLODE\"");
    EXPECT_EQ(error_of("/x/\n"), "rules:1: the action after the pattern is missing");
    EXPECT_EQ(error_of("/x REJECT\n"), "rules:1: the pattern has no closing /");
    EXPECT_EQ(error_of("x/ REJECT\n"), "rules:1: a pattern must start with a delimiter such as /");
    EXPECT_EQ(error_of("/x/q REJECT\n"), "rules:1: unknown pattern flag 'q'");
    EXPECT_NE(error_of("/(/ REJECT\n").find("rules:1: bad pattern /(/:"), std::string::npos);
    EXPECT_EQ(error_of("if /x/\n/y/ WARN\n"), "rules:2: if without endif");
    EXPECT_EQ(error_of("endif\n"), "rules:1: endif without if");
    EXPECT_EQ(error_of("if /x/ REJECT\nendif\n"), "rules:1: text after the pattern of an if");
    EXPECT_EQ(error_of("  /x/ WARN\n"), "rules:1: a continuation line without a rule");
    EXPECT_EQ(RuleSet::load("/nonexistent/rules", RuleTarget::kHeader).error().message,
              "/nonexistent/rules: cannot be read");
}

TEST(ContentRules, CatastrophicBacktrackingIsBoundedAndCountsAsNoMatch) {
    auto rules = parsed("/^(a+)+$/ REJECT\n/b/ WARN\n");
    std::string hostile(5000, 'a');
    hostile += 'b';
    bool too_complex = false;
    auto start = std::chrono::steady_clock::now();
    const Rule* r = rules.match(hostile, &too_complex);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(too_complex);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->action, RuleAction::kWarn);
    EXPECT_LT(took, std::chrono::seconds(2));
}

}  // namespace
}  // namespace tern::policy

namespace tern::policy {
namespace {

TEST(ContentRules, ScoreRulesCarryTheirPoints) {
    auto rules = parsed("/^Subject: .*offer/ SCORE 2.5 offers\n/^X-Mailer: bulk/ score -1\n");
    const Rule* r = rules.match("Subject: an offer");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->action, RuleAction::kScore);
    EXPECT_DOUBLE_EQ(r->points, 2.5);
    EXPECT_EQ(r->text, "offers");
    r = rules.match("X-Mailer: bulk 1.0");
    ASSERT_TRUE(r);
    EXPECT_DOUBLE_EQ(r->points, -1);
    EXPECT_EQ(r->text, "");
    // Body rules may score too.
    EXPECT_TRUE(parsed("/casino/ SCORE 3\n", RuleTarget::kBody).match("casino night"));
}

TEST(ContentRules, ScoreNeedsItsPoints) {
    for (std::string_view bad : {"/x/ SCORE\n", "/x/ SCORE many\n", "/x/ SCORE 2x\n",
                                 "/x/ SCORE 1e9\n", "/x/ SCORE nan\n"})
        EXPECT_EQ(error_of(bad),
                  "rules:1: SCORE needs points from -1000 to 1000, as in \"SCORE 2.5\"")
            << bad;
}

}  // namespace
}  // namespace tern::policy
