// ContentStage in a pipeline: header fields judged unfolded, body lines judged whatever the
// split of the text, the first refusal wins, holds and discards, header edits, the body size
// limit, and long lines judged in pieces.
#include "policy/content_stage.h"

#include <gtest/gtest.h>

#include "message/header_edit.h"
#include "pipeline/pipeline.h"
#include "test_async.h"

namespace tern::policy {
namespace {

using pipeline::Verdict;
using tern::testing::run_until_done;

const std::string kText =
    "Received: by mx\r\n"
    "Subject: a very\r\n"
    " special offer\r\n"
    "X-Mailer: bulk 1.0\r\n"
    "\r\n"
    "Hello,\r\n"
    "click http://spam.example.net/now\r\n"
    "bye\r\n";

struct Result {
    pipeline::MessageOutcome outcome;
    std::vector<std::string> fields;  // after the edits
};

Result run(std::string_view header_rules, std::string_view body_rules, std::size_t piece = 0,
           ContentOptions o = {}, const std::string& text = kText) {
    static log::Logger log{log::Format::kText, log::Level::kError};
    if (!header_rules.empty())
        o.header_rules = std::make_shared<RuleSet>(
            std::move(*RuleSet::parse(header_rules, "h", RuleTarget::kHeader)));
    if (!body_rules.empty())
        o.body_rules = std::make_shared<RuleSet>(
            std::move(*RuleSet::parse(body_rules, "b", RuleTarget::kBody)));
    pipeline::Pipeline p;
    p.add(std::make_shared<ContentStage>(o, log));
    pipeline::SessionInfo info;
    spool::Message envelope;
    envelope.id = "Q1";
    auto r = p.start_message(info, envelope);
    EXPECT_TRUE(r);
    if (!r) return {};
    if (piece == 0) piece = text.size();
    for (std::size_t i = 0; i < text.size(); i += piece)
        r->text(std::string_view(text).substr(i, piece));
    Result out{run_until_done(r->finish()), {}};
    out.fields = {"Received: by mx\r\n", "Subject: a very\r\n special offer\r\n",
                  "X-Mailer: bulk 1.0\r\n"};
    message::apply_edits(out.fields, out.outcome.edits);
    return out;
}

TEST(ContentStage, NoRulesNoHook) {
    log::Logger log{log::Format::kText, log::Level::kError};
    EXPECT_EQ(ContentStage({}, log).hooks(), 0u);
}

TEST(ContentStage, FoldedFieldsAreJudgedUnfolded) {
    for (std::size_t piece : {0u, 1u, 5u}) {
        auto r = run("/^Subject: a very special offer$/ REJECT 5.7.1 No offers", "", piece);
        EXPECT_EQ(r.outcome.verdict.kind, Verdict::Kind::kReject) << piece;
        EXPECT_EQ(r.outcome.verdict.reply.code, 550);
        EXPECT_EQ(r.outcome.verdict.reply.text, "No offers");
        EXPECT_EQ(r.outcome.verdict.stage, "content");
    }
}

TEST(ContentStage, BodyLinesAreJudgedWhateverTheSplit) {
    for (std::size_t piece : {0u, 1u, 2u, 7u, 13u}) {
        auto r =
            run("", "/^click http:\\/\\/spam\\.example\\.net\\// DEFER come back later", piece);
        EXPECT_EQ(r.outcome.verdict.kind, Verdict::Kind::kDefer) << piece;
        EXPECT_EQ(r.outcome.verdict.reply.code, 451);
        EXPECT_EQ(r.outcome.verdict.reply.text, "come back later");
        // The pattern is anchored at both ends of the line: no CR, no LF in what is judged.
        EXPECT_EQ(run("", "/^bye$/ REJECT", piece).outcome.verdict.kind, Verdict::Kind::kReject);
    }
}

TEST(ContentStage, HeaderRulesDoNotSeeTheBodyNorBodyRulesTheHeader) {
    EXPECT_FALSE(run("/click/ REJECT", "").outcome.verdict.final());
    EXPECT_FALSE(run("", "/X-Mailer/ REJECT").outcome.verdict.final());
}

TEST(ContentStage, ARefusalWinsOverAnEarlierHold) {
    auto r = run("/^X-Mailer:/ HOLD", "/^bye/ REJECT");
    EXPECT_EQ(r.outcome.verdict.kind, Verdict::Kind::kReject);
    r = run("/^X-Mailer:/ HOLD", "");
    EXPECT_EQ(r.outcome.verdict.kind, Verdict::Kind::kHold);
    EXPECT_NE(r.outcome.verdict.reason.find("h:1"), std::string::npos);
    r = run("/^Subject:/ HOLD\n/^X-Mailer:/ DISCARD", "");
    EXPECT_EQ(r.outcome.verdict.kind, Verdict::Kind::kDiscard);
}

TEST(ContentStage, IgnorePrependAndReplaceEditTheHeader) {
    auto r =
        run("/^X-Mailer:/ IGNORE\n"
            "/^Subject:/ PREPEND X-Subject-Checked: yes\n"
            "/^Received:/ REPLACE Received: by a filter",
            "");
    EXPECT_FALSE(r.outcome.verdict.final());
    EXPECT_EQ(r.fields,
              (std::vector<std::string>{"Received: by a filter\r\n", "X-Subject-Checked: yes\r\n",
                                        "Subject: a very\r\n special offer\r\n"}));
}

TEST(ContentStage, OnlyTheFirstBodySizeLimitOctetsAreJudged) {
    ContentOptions o;
    o.body_size_limit = 10;  // "Hello,\r\ncl"
    EXPECT_FALSE(run("", "/spam/ REJECT", 0, o).outcome.verdict.final());
    EXPECT_EQ(run("", "/^cl$/ REJECT", 3, o).outcome.verdict.kind, Verdict::Kind::kReject);
}

TEST(ContentStage, LongLinesAreJudgedInPiecesOfTheLineLimit) {
    ContentOptions o;
    o.line_limit = 8;
    std::string text = "Subject: s\r\n\r\n0123456789abcdefXYZ\r\n";
    for (std::size_t piece : {0u, 1u, 3u}) {
        EXPECT_EQ(run("", "/^89abcdef$/ REJECT", piece, o, text).outcome.verdict.kind,
                  Verdict::Kind::kReject)
            << piece;
        EXPECT_EQ(run("", "/^XYZ$/ REJECT", piece, o, text).outcome.verdict.kind,
                  Verdict::Kind::kReject)
            << piece;
        EXPECT_FALSE(run("", "/^$/ REJECT", piece, o, text).outcome.verdict.final()) << piece;
    }
}

}  // namespace
}  // namespace tern::policy

namespace tern::policy {
namespace {

TEST(ContentStage, ScoreRulesAddTheirPointsOnce) {
    auto r = run("/^Subject: a very special/ SCORE 2\n/^X-Mailer: bulk/ SCORE 1.5\n",
                 "/^(click|bye)/ SCORE 0.5\n");
    EXPECT_FALSE(r.outcome.verdict.final());
    // The body rule matched two lines and counts once; the names say which rule.
    EXPECT_EQ(r.outcome.scores,
              (std::vector<pipeline::ScoreItem>{
                  {"content:h:1", 2}, {"content:h:2", 1.5}, {"content:b:1", 0.5}}));
    // The stage's default ScoreOptions add the field.
    EXPECT_EQ(r.fields.front(),
              "X-Tern-Score: 4 (content:h:1=2, content:h:2=1.5, content:b:1=0.5)\r\n");
}

}  // namespace
}  // namespace tern::policy
