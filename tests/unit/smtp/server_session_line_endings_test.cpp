// Unit tests of line endings in ServerSession, in both bare LF modes ([limits] bare_lf): a bare
// LF normalised or refused in DATA and in commands, a bare CR always refused, and SMTP smuggling
// (every fake end of data, with pipelined commands after it) in one read, many, and split anywhere.
#include <gtest/gtest.h>

#include "session_driver.h"

namespace tern::smtp::test {
namespace {

// --- bare CR and LF in DATA ----------------------------------------------------------------

TEST(ServerSessionData, BareLineFeedInDataIsRefusedWhenSoConfigured) {
    auto d = in_data(options_with(BareLf::kReject));
    EXPECT_EQ(d.feed("Subject: x\nhello\r\n.\r\n"),
              "554 5.6.0 Message contains a bare CR or LF; lines must end with CRLF\r\n");
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u);
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
}

TEST(ServerSessionData, BareLineFeedInDataIsNormalisedByDefault) {
    auto d = in_data();
    // What `curl --upload-file` sends for a Unix text file: LF lines, then CRLF.CRLF.
    EXPECT_EQ(codes(d.feed("Subject: x\nFrom: a@a.example\n\nline one\n..dot\nlast\n\r\n.\r\n")),
              "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0],
              "Subject: x\r\nFrom: a@a.example\r\n\r\nline one\r\n.dot\r\nlast\r\n\r\n");
}

TEST(ServerSessionData, LineFeedEndingIsNotTheEndOfData) {
    // A client that ends with LF "." LF has not ended the data: nothing is answered, and what
    // follows (even QUIT) is message text until the real CRLF.CRLF.
    auto d = in_data();
    EXPECT_EQ(d.feed("hello\n.\nQUIT\n"), "");
    EXPECT_FALSE(d.session.closed());
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    // Not even "." CRLF right after a bare LF: the end needs the CRLF before the dot.
    EXPECT_EQ(d.feed(".\r\n"), "");
    EXPECT_EQ(codes(d.feed("\r\n.\r\n")), "250 2.0.0");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], "hello\r\n\r\nQUIT\r\n\r\n\r\n");
}

TEST(ServerSessionData, BareCarriageReturnInDataIsRefused) {
    auto d = in_data();
    EXPECT_EQ(d.feed("a\rb\r\n.\r\n"),
              "554 5.6.0 Message contains a bare CR; lines must end with CRLF\r\n");
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u);
    auto strict = in_data(options_with(BareLf::kReject));
    EXPECT_EQ(codes(strict.feed("a\rb\r\n.\r\n")), "554 5.6.0");
    EXPECT_EQ(strict.count(ActionKind::kCommitMessage), 0u);
}

// --- SMTP smuggling ------------------------------------------------------------------------------

struct FakeEnding {
    const char* name;
    const char* bytes;
    bool bare_cr;  // holds a bare CR: refused in either mode
};

constexpr FakeEnding kFakeEndings[] = {
    {"<LF>.<LF>", "\n.\n", false},       {"<CR><LF>.<LF>", "\r\n.\n", false},
    {"<LF>.<CR><LF>", "\n.\r\n", false}, {"<CR>.<CR>", "\r.\r", true},
    {"<CR><LF>.<CR>", "\r\n.\r", true},  {"<CR>.<CR><LF>", "\r.\r\n", true},
    {"<LF>.<CR>", "\n.\r", true},        {"<CR><LF>.<CR><CR><LF>", "\r\n.\r\r\n", true},
};

const std::string kSmuggled =
    "MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\nDATA\r\n"
    "From: evil@x.example\r\n\r\nsmuggled\r\n";

// The whole client side of a dialog that tries to smuggle a second message past the first end.
std::string smuggling_dialog(std::string_view fake_ending) {
    return "EHLO client.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n"
           "Subject: hi\r\n\r\nhello" +
           std::string(fake_ending) + kSmuggled + ".\r\nQUIT\r\n";
}

void expect_smuggling_refused(const SessionDriver& d, const std::string& label) {
    EXPECT_EQ(d.checked_senders, std::vector<std::string>{"<a@a.example>"}) << label;
    EXPECT_EQ(d.checked_recipients, std::vector<std::string>{"<b@b.example>"}) << label;
    EXPECT_EQ(codes(d.sent), "220, 250, 250 2.1.0, 250 2.1.5, 354, 554 5.6.0, 221 2.0.0") << label;
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 1u) << label;
    EXPECT_EQ(d.count(ActionKind::kAbortMessage), 1u) << label;
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 0u) << label;
    EXPECT_TRUE(d.messages.empty()) << label;
}

// With bare LF normalised, a fake ending without a bare CR is an empty line: the message is
// accepted whole and the smuggled commands are text inside it, never run.
void expect_smuggling_inside(const SessionDriver& d, const std::string& label) {
    EXPECT_EQ(d.checked_senders, std::vector<std::string>{"<a@a.example>"}) << label;
    EXPECT_EQ(d.checked_recipients, std::vector<std::string>{"<b@b.example>"}) << label;
    EXPECT_EQ(codes(d.sent), "220, 250, 250 2.1.0, 250 2.1.5, 354, 250 2.0.0, 221 2.0.0") << label;
    EXPECT_EQ(d.count(ActionKind::kBeginMessage), 1u) << label;
    EXPECT_EQ(d.count(ActionKind::kCommitMessage), 1u) << label;
    ASSERT_EQ(d.messages.size(), 1u) << label;
    EXPECT_EQ(d.messages[0], "Subject: hi\r\n\r\nhello\r\n\r\n" + kSmuggled) << label;
}

// The outcome of one smuggling dialog in `mode`: refused, or (normalised LF) the text inside.
void expect_smuggling_defeated(const SessionDriver& d, const FakeEnding& fake, BareLf mode,
                               const std::string& label) {
    if (mode == BareLf::kReject || fake.bare_cr) {
        expect_smuggling_refused(d, label);
    } else {
        expect_smuggling_inside(d, label);
    }
}

constexpr BareLf kModes[] = {BareLf::kNormalize, BareLf::kReject};

std::string mode_name(BareLf mode) {
    return mode == BareLf::kReject ? "reject: " : "normalize: ";
}

TEST(ServerSessionSmuggling, FakeEndingsNeverEndTheMessage) {
    for (BareLf mode : kModes) {
        for (const auto& fake : kFakeEndings) {
            SessionDriver d(options_with(mode));
            d.feed(smuggling_dialog(fake.bytes));
            expect_smuggling_defeated(d, fake, mode, mode_name(mode) + fake.name);
        }
    }
}

TEST(ServerSessionSmuggling, BareCrRefusalNamesTheCr) {
    SessionDriver d;
    d.feed(smuggling_dialog("\r.\r"));
    EXPECT_NE(d.sent.find("554 5.6.0 Message contains a bare CR; lines must end with CRLF\r\n"),
              std::string::npos);
}

TEST(ServerSessionSmuggling, FakeEndingsInSeparateReads) {
    for (BareLf mode : kModes) {
        for (const auto& fake : kFakeEndings) {
            SessionDriver d(options_with(mode));
            d.feed("EHLO client.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n");
            d.feed("DATA\r\n");
            d.feed("Subject: hi\r\n\r\nhello");
            d.feed(fake.bytes);
            d.feed(kSmuggled);
            d.feed(".\r\n");
            d.feed("QUIT\r\n");
            expect_smuggling_defeated(d, fake, mode, mode_name(mode) + fake.name);
        }
    }
}

TEST(ServerSessionSmuggling, FakeEndingsSplitAtEveryOctet) {
    for (BareLf mode : kModes) {
        for (const auto& fake : kFakeEndings) {
            std::string dialog = smuggling_dialog(fake.bytes);
            for (std::size_t cut = 1; cut < dialog.size(); ++cut) {
                SessionDriver d(options_with(mode));
                d.feed(std::string_view(dialog).substr(0, cut));
                d.feed(std::string_view(dialog).substr(cut));
                expect_smuggling_defeated(
                    d, fake, mode, mode_name(mode) + fake.name + " cut " + std::to_string(cut));
                if (::testing::Test::HasFailure()) return;
            }
        }
    }
}

// --- bare line endings in commands -------------------------------------------------------------

TEST(ServerSessionBareLineEnding, BareLineFeedInCommandIsRefusedWhenSoConfigured) {
    auto d = after_ehlo(options_with(BareLf::kReject));
    EXPECT_EQ(d.feed("MAIL FROM:<a@a.example>\nRCPT TO:<b@b.example>\r\n"),
              "500 5.5.2 Bare CR or LF in command; commands end with CRLF\r\n");
    EXPECT_TRUE(d.checked_senders.empty());
    EXPECT_TRUE(d.checked_recipients.empty());
}

TEST(ServerSessionBareLineEnding, BareLineFeedEndsACommandByDefault) {
    auto d = after_ehlo();
    EXPECT_EQ(codes(d.feed("MAIL FROM:<a@a.example>\nRCPT TO:<b@b.example>\r\nNOOP\n")),
              "250 2.1.0, 250 2.1.5, 250 2.0.0");
    EXPECT_EQ(d.checked_recipients, std::vector<std::string>{"<b@b.example>"});
}

TEST(ServerSessionBareLineEnding, BareCarriageReturnInCommand) {
    for (BareLf mode : kModes) {
        auto o = default_options();
        o.limits.bare_lf = mode;
        SessionDriver d(o);
        EXPECT_EQ(codes(d.feed("NOOP\rQUIT\r\n")), "500 5.5.2");
        EXPECT_FALSE(d.session.closed());
        EXPECT_EQ(codes(d.feed("NOOP\r\r\n")), "500 5.5.2");
        EXPECT_EQ(codes(d.feed("NOOP\rQUIT\n")), mode == BareLf::kNormalize ? "500 5.5.2" : "");
    }
    SessionDriver d;
    EXPECT_EQ(d.feed("NOOP\rQUIT\n"), "500 5.5.2 Bare CR in command; commands end with CRLF\r\n");
}

TEST(ServerSessionBareLineEnding, LineFeedOnlyCommandsWaitForCrlfWhenSoConfigured) {
    SessionDriver d(options_with(BareLf::kReject));
    EXPECT_EQ(d.feed("NOOP\nNOOP\n"), "");
    EXPECT_EQ(codes(d.feed("\r\n")), "500 5.5.2");
}

// A whole LF-only dialog, as a Unix tool writes it: the commands, dot-stuffing after bare LF,
// LF "." LF (stuffing, not the end), the real end, then BDAT, whose octets are never changed.
const std::string kLfDialog =
    "EHLO client.example\n"
    "MAIL FROM:<alice@a.example>\n"
    "RCPT TO:<bob@b.example>\r\n"
    "DATA\n"
    "Subject: test\n"
    "\n"
    "..leading dot\n"
    "fake end\n.\n"
    "MAIL FROM:<evil@x.example>\n"
    "real\r\n"
    ".\r\n"
    "MAIL FROM:<>\n"
    "RCPT TO:<postmaster>\n"
    "BDAT 5 LAST\n"
    "a\nb\r\n"
    "QUIT\n";

TEST(ServerSessionBareLineEnding, LfDialogSplitAtEveryOctet) {
    SessionDriver whole;
    whole.feed(kLfDialog);
    EXPECT_EQ(codes(whole.sent),
              "220, 250, 250 2.1.0, 250 2.1.5, 354, 250 2.0.0, 250 2.1.0, 250 2.1.5, 250 2.0.0, "
              "221 2.0.0");
    EXPECT_EQ(whole.checked_senders, (std::vector<std::string>{"<alice@a.example>", "<>"}));
    EXPECT_EQ(whole.messages,
              (std::vector<std::string>{"Subject: test\r\n\r\n.leading dot\r\nfake end\r\n\r\n"
                                        "MAIL FROM:<evil@x.example>\r\nreal\r\n",
                                        "a\nb\r\n"}));
    for (std::size_t cut = 0; cut <= kLfDialog.size(); ++cut) {
        SessionDriver d;
        d.feed(std::string_view(kLfDialog).substr(0, cut));
        d.feed(std::string_view(kLfDialog).substr(cut));
        EXPECT_EQ(d.sent, whole.sent) << "cut at " << cut;
        EXPECT_EQ(d.messages, whole.messages) << "cut at " << cut;
        if (::testing::Test::HasFailure()) return;
    }
}

}  // namespace
}  // namespace tern::smtp::test
