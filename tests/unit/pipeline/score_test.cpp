// Scores: points the stages add at the session hooks and at the end of a message, a name counting
// once, the X-Tern-Score field, and the reject and hold thresholds applied once every stage ran.
#include <gtest/gtest.h>

#include "pipeline/pipeline.h"
#include "test_async.h"

namespace tern::pipeline {
namespace {

using tern::testing::run_until_done;
namespace asio = boost::asio;

// A stage that adds points at HELO and at the end of each message, and may end it.
struct Scorer : Stage {
    std::string id;
    std::vector<ScoreItem> at_helo, at_end;
    Verdict end_kind = Verdict::next();
    explicit Scorer(std::string name) : id(std::move(name)) {}
    std::string_view name() const override { return id; }
    unsigned hooks() const override { return kOnHelo | kOnMessage; }
    asio::awaitable<Verdict> on_helo(const SessionInfo&) override {
        Verdict v;
        v.scores = at_helo;
        co_return v;
    }
    struct Filter : MessageFilter {
        Scorer& s;
        explicit Filter(Scorer& scorer) : s(scorer) {}
        asio::awaitable<Verdict> on_end(MessageView&) override {
            Verdict v = s.end_kind;
            v.scores = s.at_end;
            co_return v;
        }
    };
    std::unique_ptr<MessageFilter> start_message(const SessionInfo&,
                                                 const spool::Message&) override {
        return std::make_unique<Filter>(*this);
    }
};

struct Run {
    MessageOutcome out;
    std::vector<std::string> fields;
};

Run finish(Pipeline& p, const SessionInfo& info) {
    spool::Message envelope;
    auto r = p.start_message(info, envelope);
    EXPECT_TRUE(r);
    r->text("Subject: s\r\n\r\nbody\r\n");
    Run run{run_until_done(r->finish()), {"Subject: s\r\n"}};
    message::apply_edits(run.fields, run.out.edits);
    return run;
}

TEST(Score, SessionHooksGatherEveryStagesPoints) {
    Pipeline p;
    auto a = std::make_shared<Scorer>("a");
    auto b = std::make_shared<Scorer>("b");
    a->at_helo = {{"x", 1}};
    b->at_helo = {{"y", 2.5}, {"x", 3}};  // a name counts once: the latest
    p.add(a);
    p.add(b);
    auto v = run_until_done(p.helo(SessionInfo{}));
    EXPECT_FALSE(v.final());
    EXPECT_EQ(v.scores, (std::vector<ScoreItem>{{"x", 3}, {"y", 2.5}}));
}

TEST(Score, FieldWithTheTotalAndItsItems) {
    Pipeline p;
    auto a = std::make_shared<Scorer>("a");
    a->at_end = {{"content:rules:3", 2.5}, {"content:rules:7", -1}};
    p.add(a);
    SessionInfo info;
    info.scores = {{"dnsbl", 3}};
    auto run = finish(p, info);
    EXPECT_FALSE(run.out.verdict.final());
    ASSERT_EQ(run.fields.size(), 2u);
    EXPECT_EQ(run.fields[0],
              "X-Tern-Score: 4.5 (dnsbl=3, content:rules:3=2.5, content:rules:7=-1)\r\n");
    EXPECT_EQ(describe_score(run.out.scores),
              "4.5 (dnsbl=3, content:rules:3=2.5, content:rules:7=-1)");
}

TEST(Score, SessionPointsAloneMakeARun) {
    // No stage looks at messages, yet the points of RCPT (a DNS list) are judged at the end.
    struct RcptOnly : Stage {
        std::string_view name() const override { return "lists"; }
        unsigned hooks() const override { return kOnRcpt; }
    };
    Pipeline p(PipelineLimits{}, ScoreOptions{3, 0, true});
    p.add(std::make_shared<RcptOnly>());
    spool::Message envelope;
    EXPECT_FALSE(p.start_message(SessionInfo{}, envelope));
    SessionInfo info;
    info.scores = {{"dnsbl", 4}};
    auto run = finish(p, info);
    EXPECT_EQ(run.out.verdict.kind, Verdict::Kind::kReject);
}

TEST(Score, NoPointsNoField) {
    Pipeline p(PipelineLimits{}, ScoreOptions{1, 1, true});
    p.add(std::make_shared<Scorer>("a"));
    auto run = finish(p, SessionInfo{});
    EXPECT_FALSE(run.out.verdict.final());
    EXPECT_EQ(run.fields.size(), 1u);
}

TEST(Score, RejectAndHoldThresholds) {
    ScoreOptions options{10, 5, true};
    {
        Pipeline p(PipelineLimits{}, options);
        auto a = std::make_shared<Scorer>("a");
        a->at_end = {{"rules", 6}};
        p.add(a);
        SessionInfo info;
        info.scores = {{"dnsbl", 4}};
        auto run = finish(p, info);
        EXPECT_EQ(run.out.verdict.kind, Verdict::Kind::kReject);
        EXPECT_EQ(run.out.verdict.stage, "score");
        EXPECT_EQ(run.out.verdict.reply.code, 550);
        EXPECT_EQ(run.out.verdict.reply.status, "5.7.1");
        EXPECT_EQ(run.out.verdict.reply.text, "Message refused as spam (score 10)");
        EXPECT_EQ(run.out.verdict.reason, "score 10 (dnsbl=4, rules=6)");
    }
    {
        Pipeline p(PipelineLimits{}, options);
        auto a = std::make_shared<Scorer>("a");
        a->at_end = {{"rules", 5}};
        p.add(a);
        auto run = finish(p, SessionInfo{});
        EXPECT_EQ(run.out.verdict.kind, Verdict::Kind::kHold);
        EXPECT_EQ(run.fields[0], "X-Tern-Score: 5 (rules=5)\r\n");
    }
    {
        // Below both, with the field off: nothing changes.
        Pipeline p(PipelineLimits{}, ScoreOptions{10, 5, false});
        auto a = std::make_shared<Scorer>("a");
        a->at_end = {{"rules", 4.9}};
        p.add(a);
        auto run = finish(p, SessionInfo{});
        EXPECT_FALSE(run.out.verdict.final());
        EXPECT_EQ(run.fields.size(), 1u);
    }
}

TEST(Score, AStagesRefusalWinsOverTheScore) {
    Pipeline p(PipelineLimits{}, ScoreOptions{1, 0, true});
    auto a = std::make_shared<Scorer>("a");
    a->at_end = {{"rules", 50}};
    a->end_kind = Verdict::discard("dropped");
    p.add(a);
    auto run = finish(p, SessionInfo{});
    EXPECT_EQ(run.out.verdict.kind, Verdict::Kind::kDiscard);
}

}  // namespace
}  // namespace tern::pipeline
