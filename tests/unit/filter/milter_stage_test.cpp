// Milter client and stage against a scripted filter on a loopback socket:
// negotiation and the steps sent, each decision as a verdict, header edits with
// Sendmail/Postfix indexing, and the failures (refused connection, silence,
// garbage, early close) that give the default action.
#include "filter/milter_stage.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <functional>

namespace tern::filter {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::string_literals;
using namespace std::chrono_literals;
using Verdict = pipeline::Verdict;

std::string u32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

// A filter's answer to one command: raw bytes to send (any number of frames, or
// garbage).
using Script = std::function<std::string(char command, const std::string& data)>;

std::string negotiation(std::uint32_t actions, std::uint32_t steps) {
    return milter::frame('O', u32(6) + u32(actions) + u32(steps));
}

// Accepts one connection, answers with `script`; records the commands it got.
struct FakeMilter {
    explicit FakeMilter(asio::io_context& context) : io(context) {}
    asio::io_context& io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::vector<std::pair<char, std::string>> got;
    Script script;

    std::uint16_t port() const { return acceptor.local_endpoint().port(); }

    asio::awaitable<void> serve() {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        try {
            while (true) {
                std::string len(4, '\0');
                co_await asio::async_read(socket, asio::buffer(len), asio::use_awaitable);
                std::uint32_t n = static_cast<unsigned char>(len[0]) << 24 |
                                  static_cast<unsigned char>(len[1]) << 16 |
                                  static_cast<unsigned char>(len[2]) << 8 |
                                  static_cast<unsigned char>(len[3]);
                std::string data(n, '\0');
                co_await asio::async_read(socket, asio::buffer(data), asio::use_awaitable);
                got.emplace_back(data[0], data.substr(1));
                if (data[0] == 'Q') break;
                std::string answer = script(data[0], data.substr(1));
                if (answer == "CLOSE") break;
                if (answer == "HANG") {
                    asio::steady_timer t(io, 1s);
                    co_await t.async_wait(asio::use_awaitable);
                    break;
                }
                if (!answer.empty())
                    co_await asio::async_write(socket, asio::buffer(answer), asio::use_awaitable);
            }
        } catch (const boost::system::system_error&) {
        }
    }

    std::string commands() const {
        std::string s;
        for (const auto& [c, d] : got)
            s += c;
        return s;
    }
};

// A filter that answers "continue" to everything and `end` at the end of the
// message.
Script continuing(std::string end, std::uint32_t steps = 0, std::uint32_t actions = 0x1ff) {
    return [=](char c, const std::string&) -> std::string {
        if (c == 'O') return negotiation(actions, steps);
        if (c == 'D') return "";
        if (c == 'E') return end;
        return milter::frame('c', {});
    };
}

struct Harness {
    asio::io_context io;
    FakeMilter fake{io};
    log::Logger log{log::Format::kText, log::Level::kError};
    pipeline::SessionInfo session;
    spool::Message envelope;
    std::vector<std::string> fields{"Received: from x\r\n", "Subject: hello\r\n", "X-Tag: one\r\n",
                                    "From: a@example.org\r\n", "X-Tag: two\r\n"};
    std::string body = "line one\r\nline two\r\n";
    MilterSettings settings;

    Harness() {
        session.client_ip = "192.0.2.7";
        session.client_name = "client.example";
        session.helo = "client.example";
        session.auth_user = "alice";
        envelope.id = "QID1";
        envelope.sender = "a@example.org";
        spool::Recipient rcpt;
        rcpt.address = "b@example.net";
        envelope.recipients.push_back(rcpt);
        settings.client.address =
            *net::StreamAddress::parse("inet:127.0.0.1:" + std::to_string(fake.port()));
        settings.client.timeouts = {2000ms, 300ms, 300ms};
        settings.hostname = "mx.example.net";
    }

    // Runs the stage on the message; `meanwhile` is called with the stage once it runs.
    Verdict run(bool serve = true, std::function<void(MilterStage&)> meanwhile = {}) {
        if (serve) asio::co_spawn(io, fake.serve(), asio::detached);
        MilterStage stage(settings, log);
        if (meanwhile) meanwhile(stage);
        auto filter = stage.start_message(session, envelope);
        filter->on_body(body);
        if (replaced_before) filter->on_body_replaced(*replaced_before);
        pipeline::MessageView view(session, envelope, fields, body.size());
        auto f = asio::co_spawn(io, filter->on_end(view), asio::use_future);
        io.run();
        after = view.fields();
        envelope_after = view.envelope_edits();
        body_after = view.replaced_body();
        return f.get();
    }
    std::optional<std::string> replaced_before;  // an earlier stage's new body
    std::vector<std::string> after;
    std::vector<pipeline::EnvelopeEdit> envelope_after;
    std::optional<std::string> body_after;
};

TEST(MilterHeaderField, FormsAndRefusals) {
    EXPECT_EQ(header_field("X-Spam", "yes", false), "X-Spam: yes\r\n");
    EXPECT_EQ(header_field("X-Spam", " yes", true), "X-Spam: yes\r\n");
    EXPECT_EQ(header_field("X-Spam", "yes", true), "X-Spam:yes\r\n");
    EXPECT_EQ(header_field("X-Long", "a\n\tb", false), "X-Long: a\r\n\tb\r\n");
    EXPECT_EQ(header_field("X-Long", "a\r\n b", false), "X-Long: a\r\n b\r\n");
    EXPECT_EQ(header_field("X-Bad", "a\nInjected: yes", false), "");
    EXPECT_EQ(header_field("X-Bad", "a\n\nbody", false), "");
    EXPECT_EQ(header_field("X-Bad", "a\n \n", false), "");
    EXPECT_EQ(header_field("X-Bad", "a\rb", false), "");
    EXPECT_EQ(header_field("Bad:Name", "v", false), "");
    EXPECT_EQ(header_field("Bad Name", "v", false), "");
    EXPECT_EQ(header_field("", "v", false), "");
}

TEST(MilterNthField, CountsPerNameFromOne) {
    std::vector<std::string> f{"A: 1\r\n", "x-tag: 1\r\n", "B: 2\r\n", "X-Tag : 2\r\n"};
    EXPECT_EQ(nth_field(f, "X-Tag", 1), 1u);
    EXPECT_EQ(nth_field(f, "X-Tag", 2), 3u);
    EXPECT_EQ(nth_field(f, "X-Tag", 3), std::string::npos);
}

TEST(MilterMessageTest, MacrosAndEnvelope) {
    Harness h;
    h.session.tls_version = "TLSv1.3";
    MilterMessage m = milter_message(h.session, h.envelope, h.fields, h.body, "mx.example.net");
    EXPECT_EQ(m.family, milter::Family::kInet4);
    EXPECT_EQ(m.client_name, "client.example");
    EXPECT_EQ(m.mail_args, std::vector<std::string>{"<a@example.org>"});
    ASSERT_EQ(m.rcpt_args.size(), 1u);
    EXPECT_EQ(m.rcpt_args[0][0], "<b@example.net>");
    Macros want_connect{{"j", "mx.example.net"},
                        {"{daemon_name}", "tern-mx"},
                        {"_", "client.example [192.0.2.7]"},
                        {"{client_addr}", "192.0.2.7"},
                        {"{client_name}", "client.example"}};
    EXPECT_EQ(m.connect_macros, want_connect);
    EXPECT_EQ(m.helo_macros, (Macros{{"{tls_version}", "TLSv1.3"}}));
    EXPECT_EQ(
        m.mail_macros,
        (Macros{{"i", "QID1"}, {"{mail_addr}", "a@example.org"}, {"{auth_authen}", "alice"}}));
    EXPECT_EQ(m.rcpt_macros[0], (Macros{{"i", "QID1"}, {"{rcpt_addr}", "b@example.net"}}));
    ASSERT_EQ(m.headers.size(), 5u);
    EXPECT_EQ(m.headers[1], (std::pair<std::string, std::string>{"Subject", " hello"}));
}

TEST(MilterStageTest, ContinueSendsEveryStepAndAccepts) {
    Harness h;
    h.fake.script = continuing(milter::frame('c', {}));
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
    // Negotiation, macros+connect, macros+helo, macros+mail, macros+rcpt,
    // macros+data, five headers, end of headers, body, macros+end of body, quit.
    EXPECT_EQ(h.fake.commands(), "ODCHDMDRDTLLLLLNBDEQ");
    EXPECT_EQ(h.fake.got[1].second, "C"s + "j\0mx.example.net\0{daemon_name}\0tern-mx\0_\0"s +
                                        "client.example [192.0.2.7]\0{client_addr}\0"s +
                                        "192.0.2.7\0"s + "{client_name}\0client.example\0"s);
    EXPECT_EQ(h.fake.got[2].second, "client.example\0"s + "4" + "\0\0"s + "192.0.2.7\0"s);
    EXPECT_EQ(h.fake.got[11].second,
              "Subject\0hello\0"s);  // leading space stripped
    EXPECT_EQ(h.fake.got[16].second, h.body);
    EXPECT_EQ(h.after, h.fields);
}

TEST(MilterStageTest, MacroListsTheFilterAskedForAreHonoured) {
    // SMFIF_SETSYMLIST: at connect only j and {client_addr} (named with or without braces), at
    // MAIL none at all, at RCPT only {rcpt_addr}; the steps it did not name get every macro.
    Harness h;
    h.fake.script = [](char c, const std::string&) -> std::string {
        if (c == 'O')
            return milter::frame('O', u32(6) + u32(0x1ff) + u32(0) + u32(0) + "client_addr j\0"s +
                                          u32(2) + "\0"s + u32(3) + "{rcpt_addr}\0"s);
        if (c == 'D') return "";
        if (c == 'E') return milter::frame('a', {});
        return milter::frame('c', {});
    };
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
    // No macro frame before MAIL: the filter asked for none there.
    EXPECT_EQ(h.fake.commands(), "ODCHMDRDTLLLLLNBDEQ");
    EXPECT_EQ(h.fake.got[1].second, "C"s + "j\0mx.example.net\0{client_addr}\0"s + "192.0.2.7\0"s);
    EXPECT_EQ(h.fake.got[5].second, "R"s + "{rcpt_addr}\0b@example.net\0"s);
    EXPECT_EQ(h.fake.got[7].second, "T"s + "i\0QID1\0"s);  // DATA: not named, all of ours
}

TEST(MilterMacros, ChosenPerStep) {
    MilterOutcome out;
    Macros ours{{"i", "Q"}, {"{mail_addr}", "a@x"}, {"{auth_authen}", "alice"}};
    EXPECT_EQ(macros_for(ours, milter::Command::kMail, out), ours);
    out.macros_wanted[2] = {"auth_authen", "{nonexistent}"};
    EXPECT_EQ(macros_for(ours, milter::Command::kMail, out), (Macros{{"{auth_authen}", "alice"}}));
    EXPECT_EQ(macros_for(ours, milter::Command::kRcpt, out), ours);
}

TEST(MilterStageTest, NoSendAndNoReplyStepsAreRespected) {
    Harness h;
    using namespace milter;
    std::uint32_t steps = kNoConnect | kNoHelo | kNoHeaders | kNoReplyMail | kNoReplyRcpt |
                          kNoReplyData | kNoReplyEndOfHeaders | kNoReplyBody;
    // Silent except where an answer is due: a wait for a no-reply step would time out.
    h.fake.script = [&](char c, const std::string&) -> std::string {
        if (c == 'O') return negotiation(0x1ff, steps);
        return c == 'E' ? frame('c', {}) : "";
    };
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
    EXPECT_EQ(h.fake.commands(), "ODMDRDTNBDEQ");
}

TEST(MilterStageTest, RejectTempfailDiscard) {
    {
        Harness h;
        h.fake.script = continuing(milter::frame('r', {}));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kReject);
        EXPECT_EQ(v.reply.render(), "550 5.7.1 Message content rejected\r\n");
    }
    {
        Harness h;
        h.fake.script = continuing(milter::frame('t', {}));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
        EXPECT_EQ(v.reply.code, 451);
    }
    {
        Harness h;
        h.fake.script = continuing(milter::frame('d', {}));
        EXPECT_EQ(h.run().kind, Verdict::Kind::kDiscard);
    }
}

TEST(MilterStageTest, RejectAtMailEndsTheConversationEarly) {
    Harness h;
    h.fake.script = [](char c, const std::string&) -> std::string {
        if (c == 'O') return negotiation(0x1ff, 0);
        if (c == 'M') return milter::frame('r', {});
        return c == 'D' ? "" : milter::frame('c', {});
    };
    EXPECT_EQ(h.run().kind, Verdict::Kind::kReject);
    EXPECT_EQ(h.fake.commands(), "ODCHDMQ");
}

TEST(MilterStageTest, RecipientRefusals) {
    auto refusing = [](std::string first, std::string second) {
        return [=, n = 0](char c, const std::string&) mutable -> std::string {
            if (c == 'O') return negotiation(0x1ff, 0);
            if (c == 'R') return ++n == 1 ? first : second;
            if (c == 'E') return milter::frame('c', {});
            return c == 'D' ? "" : milter::frame('c', {});
        };
    };
    spool::Recipient other;
    other.address = "c@example.net";
    {
        Harness h;  // one of two refused: the message goes on (logged), to both
        h.envelope.recipients.push_back(other);
        h.fake.script = refusing(milter::frame('r', {}), milter::frame('c', {}));
        EXPECT_EQ(h.run().kind, Verdict::Kind::kContinue);
        EXPECT_EQ(h.fake.commands(), "ODCHDMDRDRDTLLLLLNBDEQ");
    }
    {
        Harness h;  // every recipient refused: so is the message, with the last refusal
        h.envelope.recipients.push_back(other);
        h.fake.script = refusing(milter::frame('r', {}), milter::frame('y', "550 5.1.1 No\0"s));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kReject);
        EXPECT_EQ(v.reply.render(), "550 5.1.1 No\r\n");
        EXPECT_EQ(h.fake.commands(), "ODCHDMDRDRQ");
    }
    {
        Harness h;  // ...but deferred when one refusal was temporary: that mail is not lost
        h.envelope.recipients.push_back(other);
        h.fake.script = refusing(milter::frame('t', {}), milter::frame('y', "550 5.1.1 No\0"s));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
        EXPECT_EQ(v.reply.code, 451);
    }
}

TEST(MilterStageTest, ReplyCodes) {
    {
        Harness h;
        h.fake.script = continuing(milter::frame('y', "554 5.7.0 Spam score too high\0"s));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kReject);
        EXPECT_EQ(v.reply.render(), "554 5.7.0 Spam score too high\r\n");
    }
    {
        Harness h;
        h.fake.script = continuing(milter::frame('y', "450 Greylisted\0"s));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
        EXPECT_EQ(v.reply.render(), "450 4.7.1 Greylisted\r\n");
    }
    {
        Harness h;  // a 2xx "reply code" is a protocol error: the default action
        h.fake.script = continuing(milter::frame('y', "250 fine\0"s));
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
        EXPECT_EQ(v.reply.render(), "451 4.7.1 Service unavailable - try again later\r\n");
    }
}

TEST(MilterStageTest, HeaderEditsWithPostfixIndexing) {
    Harness h;
    h.fake.script =
        continuing(milter::frame('p', {}) + milter::frame('h', "X-Added\0at end\0"s) +
                   milter::frame('i', u32(0) + "X-Top\0first\0"s) +
                   milter::frame('m', u32(2) + "X-Tag\0changed\0"s) +
                   milter::frame('m', u32(1) + "Subject\0\0"s) +
                   milter::frame('m', u32(1) + "X-New\0made\0"s) + milter::frame('c', {}));
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
    std::vector<std::string> want{
        "X-Top: first\r\n",   "Received: from x\r\n", "X-Tag: one\r\n", "From: a@example.org\r\n",
        "X-Tag: changed\r\n", "X-Added: at end\r\n",  "X-New: made\r\n"};
    EXPECT_EQ(h.after, want);
}

TEST(MilterStageTest, QuarantineHoldsWithTheEdits) {
    Harness h;
    h.fake.script = continuing(milter::frame('h', "X-Q\0yes\0"s) +
                               milter::frame('q', "suspicious\0"s) + milter::frame('a', {}));
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kHold);
    EXPECT_NE(v.reason.find("suspicious"), std::string::npos);
    EXPECT_EQ(h.after.back(), "X-Q: yes\r\n");
}

TEST(MilterStageTest, EditsNotNegotiatedOrMalformedAreIgnored) {
    Harness h;
    h.fake.script =
        continuing(milter::frame('h', "X-A\0one\0"s) + milter::frame('+', "<x@example.org>\0"s) +
                       milter::frame('b', "new body") + milter::frame('c', {}),
                   0, milter::kChangeHeaders | milter::kAddRecipient);
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
    EXPECT_EQ(h.after, h.fields);
}

TEST(MilterStageTest, EnvelopeChangesAndANewBodyReachTheView) {
    Harness h;
    h.fake.script =
        continuing(milter::frame('e', "<new@example.org>\0RET=HDRS\0"s) +
                   milter::frame('+', "<c@example.net>\0"s) +
                   milter::frame('2', "<d@example.net>\0NOTIFY=NEVER\0"s) +
                   milter::frame('-', "<b@example.net>\0"s) + milter::frame('b', "part one\n") +
                   milter::frame('b', "part two") + milter::frame('c', {}));
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
    using K = pipeline::EnvelopeEdit::Kind;
    std::vector<pipeline::EnvelopeEdit> want{
        {K::kChangeSender, "<new@example.org>", "RET=HDRS", ""},
        {K::kAddRecipient, "<c@example.net>", "", ""},
        {K::kAddRecipient, "<d@example.net>", "NOTIFY=NEVER", ""},
        {K::kDeleteRecipient, "<b@example.net>", "", ""}};
    EXPECT_EQ(h.envelope_after, want);
    ASSERT_TRUE(h.body_after);
    EXPECT_EQ(*h.body_after, "part one\r\npart two\r\n");
    EXPECT_EQ(h.after, h.fields);
}

TEST(MilterStageTest, AReplacementBodyOverTheLimitIsAFailure) {
    Harness h;
    h.settings.client.max_replaced_body = 10;
    h.fake.script = continuing(milter::frame('b', "123456") + milter::frame('b', "7890x") +
                               milter::frame('c', {}));
    Verdict v = h.run();
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_NE(v.reason.find("replacement body over the limit of 10 octets"), std::string::npos)
        << v.reason;
    EXPECT_FALSE(h.body_after);
}

TEST(MilterStageTest, AnEarlierStagesBodyAndEnvelopeAreWhatTheFilterIsGiven) {
    Harness h;
    h.replaced_before = "from the first milter\r\n";
    h.fake.script = continuing(milter::frame('c', {}));
    h.run();
    std::string body;
    for (const auto& [c, d] : h.fake.got)
        if (c == 'B') body += d;
    EXPECT_EQ(body, "from the first milter\r\n");
}

TEST(MilterMessageTest, TheEnvelopeAsChanged) {
    MilterMessage m;
    set_envelope(m, "QID", "new@example.org", "RET=HDRS  ENVID=x",
                 {{"a@example.org", ""}, {"c@example.net", "NOTIFY=NEVER"}});
    EXPECT_EQ(m.mail_args, (std::vector<std::string>{"<new@example.org>", "RET=HDRS", "ENVID=x"}));
    ASSERT_EQ(m.rcpt_args.size(), 2u);
    EXPECT_EQ(m.rcpt_args[1], (std::vector<std::string>{"<c@example.net>", "NOTIFY=NEVER"}));
    EXPECT_EQ(m.rcpt_macros[1], (Macros{{"i", "QID"}, {"{rcpt_addr}", "c@example.net"}}));
}

TEST(MilterCrlfBody, EveryLineEndBecomesCrlf) {
    EXPECT_EQ(crlf_body(""), "");
    EXPECT_EQ(crlf_body("a"), "a\r\n");
    EXPECT_EQ(crlf_body("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd\r\n");
    EXPECT_EQ(crlf_body("\r\n\n"), "\r\n\r\n");
}

TEST(MilterStageTest, SkipEndsTheBody) {
    Harness h;
    h.body = std::string(200000, 'x');
    int bodies = 0;
    h.fake.script = [&](char c, const std::string&) -> std::string {
        if (c == 'O') return negotiation(0x1ff, 0);
        if (c == 'D') return "";
        if (c == 'B') return ++bodies == 1 ? milter::frame('s', {}) : milter::frame('c', {});
        if (c == 'E') return milter::frame('a', {});
        return milter::frame('c', {});
    };
    EXPECT_EQ(h.run().kind, Verdict::Kind::kContinue);
    EXPECT_EQ(bodies, 1);
}

TEST(MilterStageTest, FailuresGiveTheDefaultAction) {
    const std::vector<Script> hostile{
        [](char, const std::string&) -> std::string { return "HANG"; },
        [](char, const std::string&) -> std::string { return "CLOSE"; },
        [](char, const std::string&) -> std::string { return "HTTP/1.0 400 Bad\r\n\r\n"; },
        [](char c,
           const std::string&) -> std::string {  // oversize frame announced
            return c == 'O' ? negotiation(0x1ff, 0) : c == 'D' ? "" : u32(5 << 20) + "c";
        },
        [](char c, const std::string&) -> std::string {  // closes in the middle of the body
            if (c == 'O') return negotiation(0x1ff, 0);
            if (c == 'B') return "CLOSE";
            return c == 'D' ? "" : milter::frame('c', {});
        },
        [](char c, const std::string&) -> std::string {  // hangs at the end of the message
            if (c == 'O') return negotiation(0x1ff, 0);
            if (c == 'E') return "HANG";
            return c == 'D' ? "" : milter::frame('c', {});
        },
    };
    for (std::size_t i = 0; i < hostile.size(); ++i) {
        Harness h;
        h.fake.script = hostile[i];
        Verdict v = h.run();
        EXPECT_EQ(v.kind, Verdict::Kind::kDefer) << "case " << i;
        EXPECT_EQ(v.reply.code, 451) << "case " << i;
        Harness a;
        a.fake.script = hostile[i];
        a.settings.accept_on_failure = true;
        EXPECT_EQ(a.run().kind, Verdict::Kind::kContinue) << "case " << i;
    }
}

TEST(MilterStageTest, StopEndsAConversationUnderWayAndRefusesNewOnes) {
    Harness h;
    h.settings.client.timeouts.end_of_message = 20s;
    h.fake.script = [](char c, const std::string&) -> std::string {
        if (c == 'O') return negotiation(0x1ff, 0);
        if (c == 'E') return "HANG";
        return c == 'D' ? "" : milter::frame('c', {});
    };
    asio::steady_timer later(h.io, 200ms);
    auto start = std::chrono::steady_clock::now();
    Verdict v = h.run(true, [&](MilterStage& stage) {
        later.async_wait([&stage](boost::system::error_code) { stage.stop(); });
    });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // not the 20 s end timeout
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_NE(v.reason.find("shutting down"), std::string::npos) << v.reason;

    Harness after;
    after.fake.script = continuing(milter::frame('c', {}));
    Verdict refused = after.run(false, [](MilterStage& stage) { stage.stop(); });
    EXPECT_EQ(refused.kind, Verdict::Kind::kDefer);
    EXPECT_TRUE(after.fake.got.empty());
}

TEST(MilterStageTest, UnreachableFilterGivesTheDefaultAction) {
    Harness h;
    h.fake.acceptor.close();  // nothing listens there now
    Verdict v = h.run(false);
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
}

TEST(MilterStageTest, BodyOverTheLimitSkipsTheFilter) {
    Harness h;
    h.settings.max_body = 10;
    Verdict v = h.run(false);
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);
}

}  // namespace
}  // namespace tern::filter
