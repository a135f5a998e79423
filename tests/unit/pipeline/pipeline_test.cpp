// Pipeline: stages in order, the first final verdict at each session hook, the streamed
// filters (fields, body, any split), header edits seen by later stages, and the end verdicts.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include "test_async.h"

namespace tern::pipeline {
namespace {

using tern::testing::run_until_done;
namespace asio = boost::asio;

// A stage that records what it sees and ends messages as it is told.
struct Recorder : Stage {
    std::string id;
    unsigned mask = kOnMessage;
    Verdict at_helo;
    Verdict at_end;
    std::function<void(MessageView&)> edit;
    std::vector<std::string> fields_seen;
    std::string body_seen;
    std::vector<std::string> view_at_end;        // fields() as this stage's end hook found them
    std::string sender_at_end;                   // sender() there
    std::vector<std::string> recipients_at_end;  // recipients() there: "address args"
    int ends = 0;

    explicit Recorder(std::string name) : id(std::move(name)) {}
    std::string_view name() const override { return id; }
    unsigned hooks() const override { return mask; }
    asio::awaitable<Verdict> on_helo(const SessionInfo&) override { co_return at_helo; }

    struct Filter : MessageFilter {
        Recorder& r;
        explicit Filter(Recorder& rec) : r(rec) {}
        void on_header(std::string_view f) override { r.fields_seen.emplace_back(f); }
        void on_body(std::string_view b) override { r.body_seen += b; }
        void on_body_replaced(std::string_view b) override {
            r.body_seen = "replaced: " + std::string(b);
        }
        asio::awaitable<Verdict> on_end(MessageView& m) override {
            ++r.ends;
            r.view_at_end = m.fields();
            r.sender_at_end = m.sender();
            r.recipients_at_end.clear();
            for (const auto& [address, args] : m.recipients())
                r.recipients_at_end.push_back(address + (args.empty() ? "" : " " + args));
            if (r.edit) r.edit(m);
            co_return r.at_end;
        }
    };
    std::unique_ptr<MessageFilter> start_message(const SessionInfo&,
                                                 const spool::Message&) override {
        return std::make_unique<Filter>(*this);
    }
};

const std::string kText = "Received: by mx\r\nSubject: s\r\nX-Old: 1\r\n\r\nline 1\r\nline 2\r\n";

MessageOutcome feed(Pipeline& p, std::size_t piece = 0, const spool::Message& envelope = {}) {
    SessionInfo info;
    auto r = p.start_message(info, envelope);
    if (!r) return {};
    if (piece == 0) {
        r->text(kText);
    } else {
        for (std::size_t i = 0; i < kText.size(); i += piece)
            r->text(std::string_view(kText).substr(i, piece));
    }
    return run_until_done(r->finish());
}

TEST(Pipeline, FiltersSeeFieldsAndBodyWhateverTheSplit) {
    for (std::size_t piece : {0u, 1u, 3u, 17u}) {
        Pipeline p;
        auto a = std::make_shared<Recorder>("a");
        p.add(a);
        auto out = feed(p, piece);
        EXPECT_FALSE(out.verdict.final());
        EXPECT_EQ(a->fields_seen, (std::vector<std::string>{"Received: by mx\r\n", "Subject: s\r\n",
                                                            "X-Old: 1\r\n"}));
        EXPECT_EQ(a->body_seen, "line 1\r\nline 2\r\n");
    }
}

TEST(Pipeline, LaterStagesSeeEarlierEdits) {
    Pipeline p;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    a->edit = [](MessageView& m) {
        m.prepend("X-First: a\r\n");
        m.remove(3);  // X-Old, now at 3 after the prepend
    };
    b->edit = [](MessageView& m) { m.insert(1, "X-Second: b\r\n"); };
    p.add(a);
    p.add(b);
    auto out = feed(p);
    EXPECT_EQ(b->view_at_end, (std::vector<std::string>{"X-First: a\r\n", "Received: by mx\r\n",
                                                        "Subject: s\r\n"}));
    ASSERT_EQ(out.edits.size(), 3u);
    EXPECT_EQ(out.edits_delta, 12 + 13 - 10);
}

TEST(Pipeline, TheFirstFinalVerdictEndsTheMessage) {
    Pipeline p;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    a->at_end = Verdict::reject(smtp::Reply{550, "5.7.1", "no", false}, "test");
    p.add(a);
    p.add(b);
    auto out = feed(p);
    EXPECT_EQ(out.verdict.kind, Verdict::Kind::kReject);
    EXPECT_EQ(out.verdict.stage, "a");
    EXPECT_EQ(out.verdict.reply.code, 550);
    EXPECT_EQ(b->ends, 0);
}

TEST(Pipeline, AHoldKeepsTheEditsMadeSoFar) {
    Pipeline p;
    auto a = std::make_shared<Recorder>("a");
    a->edit = [](MessageView& m) { m.prepend("X-Held: yes\r\n"); };
    a->at_end = Verdict::hold("suspicious");
    p.add(a);
    auto out = feed(p);
    EXPECT_EQ(out.verdict.kind, Verdict::Kind::kHold);
    ASSERT_EQ(out.edits.size(), 1u);
}

TEST(Pipeline, SessionHooksStopAtTheFirstFinalVerdict) {
    Pipeline p;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    a->mask = kOnHelo;
    b->mask = kOnHelo;
    b->at_helo = Verdict::reject(smtp::Reply{550, "5.7.1", "bad helo", false}, "helo");
    p.add(a);
    p.add(b);
    EXPECT_TRUE(p.has(kOnHelo));
    EXPECT_FALSE(p.has(kOnMail));
    EXPECT_FALSE(p.start_message(SessionInfo{}, spool::Message{}));  // no message stage
    auto v = run_until_done(p.helo(SessionInfo{}));
    EXPECT_EQ(v.kind, Verdict::Kind::kReject);
    EXPECT_EQ(v.stage, "b");
}

TEST(Pipeline, AnOversizedHeaderSectionIsRefused) {
    Pipeline p(PipelineLimits{20});
    p.add(std::make_shared<Recorder>("a"));
    auto out = feed(p);
    EXPECT_EQ(out.verdict.kind, Verdict::Kind::kReject);
    EXPECT_EQ(out.verdict.reply.code, 552);
    EXPECT_EQ(out.verdict.reply.status, "5.3.4");
}

TEST(Pipeline, EnvelopeAddressesMatchAsPostfixDeletesThem) {
    EXPECT_TRUE(same_envelope_address("<bob@Example.ORG>", "bob@example.org"));
    EXPECT_TRUE(same_envelope_address("postmaster", "<Postmaster>"));
    EXPECT_FALSE(same_envelope_address("Bob@example.org", "bob@example.org"));  // local part exact
    EXPECT_FALSE(same_envelope_address("bob@example.org", "bob@example.org.evil"));
    EXPECT_FALSE(same_envelope_address("bob", "bob@example.org"));
    EXPECT_EQ(strip_brackets("<a@b>"), "a@b");
    EXPECT_EQ(strip_brackets("<>"), "");
    EXPECT_EQ(strip_brackets("a@b"), "a@b");
}

TEST(Pipeline, EnvelopeChangesAreSeenByLaterStagesAndCollectedInOrder) {
    spool::Message envelope;
    envelope.sender = "old@example.org";
    for (const char* address : {"alice@example.com", "bob@example.com"}) {
        spool::Recipient r;
        r.address = address;
        r.original = address;
        envelope.recipients.push_back(r);
    }
    // An alias that expanded: one RCPT address, two delivery addresses.
    spool::Recipient expanded;
    expanded.address = "box2@example.com";
    expanded.original = "bob@example.com";
    envelope.recipients.push_back(expanded);
    Pipeline p;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    a->edit = [](MessageView& m) {
        m.change_sender("<new@example.org>", "RET=HDRS");
        m.add_recipient("<carol@example.net>", "NOTIFY=NEVER");
        m.delete_recipient("alice@EXAMPLE.com");
    };
    p.add(a);
    p.add(b);
    auto out = feed(p, 0, envelope);
    EXPECT_EQ(a->recipients_at_end,
              (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
    EXPECT_EQ(b->sender_at_end, "new@example.org");
    EXPECT_EQ(b->recipients_at_end,
              (std::vector<std::string>{"bob@example.com", "carol@example.net NOTIFY=NEVER"}));
    using K = EnvelopeEdit::Kind;
    std::vector<EnvelopeEdit> want{{K::kChangeSender, "<new@example.org>", "RET=HDRS", "a"},
                                   {K::kAddRecipient, "<carol@example.net>", "NOTIFY=NEVER", "a"},
                                   {K::kDeleteRecipient, "alice@EXAMPLE.com", "", "a"}};
    EXPECT_EQ(out.envelope_edits, want);
    EXPECT_FALSE(out.body);
}

TEST(Pipeline, ABodyReplacementReachesLaterStagesAndCountsInTheSize) {
    Pipeline p;
    auto a = std::make_shared<Recorder>("a");
    auto b = std::make_shared<Recorder>("b");
    a->edit = [](MessageView& m) { m.replace_body("new\r\n"); };
    p.add(a);
    p.add(b);
    auto out = feed(p);
    EXPECT_EQ(a->body_seen, "line 1\r\nline 2\r\n");
    EXPECT_EQ(b->body_seen, "replaced: new\r\n");
    ASSERT_TRUE(out.body);
    EXPECT_EQ(*out.body, "new\r\n");
    EXPECT_EQ(out.body_delta, 5 - 16);
}

}  // namespace
}  // namespace tern::pipeline
