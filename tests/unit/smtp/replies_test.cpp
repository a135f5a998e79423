// Unit tests of the reply table: wire rendering, the code/enhanced-status pairing of every named
// reply (RFC 3463: the status class matches the code), and the Error to reply mapping.
#include "smtp/replies.h"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

TEST(Replies, RenderSingleLine) {
    EXPECT_EQ(reply(ReplyName::kOk).render(), "250 2.0.0 Ok\r\n");
    EXPECT_EQ(reply(ReplyName::kStartData).render(), "354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST(Replies, RenderMultiLine) {
    EXPECT_EQ(reply(ReplyName::kEhlo, "mx.example\nPIPELINING\nDSN").render(),
              "250-mx.example\r\n250-PIPELINING\r\n250 DSN\r\n");
    EXPECT_EQ((Reply{550, "5.1.1", "one\ntwo"}.render()), "550-5.1.1 one\r\n550 5.1.1 two\r\n");
}

TEST(Replies, RenderEmptyText) {
    EXPECT_EQ(reply(ReplyName::kAuthChallenge).render(), "334 \r\n");
    EXPECT_EQ((Reply{250, "2.0.0", ""}.render()), "250 2.0.0 \r\n");
}

TEST(Replies, TextReplacesOnlyTheText) {
    Reply r = reply(ReplyName::kQueued, "Ok: queued as 17");
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.status, "2.0.0");
    EXPECT_EQ(r.render(), "250 2.0.0 Ok: queued as 17\r\n");
}

TEST(Replies, Classes) {
    EXPECT_TRUE(reply(ReplyName::kStartData).positive());
    EXPECT_TRUE(reply(ReplyName::kOk).positive());
    EXPECT_TRUE(reply(ReplyName::kTooManyRecipients).transient_failure());
    EXPECT_FALSE(reply(ReplyName::kTooManyRecipients).permanent_failure());
    EXPECT_TRUE(reply(ReplyName::kUnknownUser).permanent_failure());
    EXPECT_FALSE(reply(ReplyName::kUnknownUser).positive());
}

TEST(Replies, EveryStatusMatchesItsCode) {
    for (int i = 0; i <= static_cast<int>(ReplyName::kUnsupportedParam); ++i) {
        Reply r = reply(static_cast<ReplyName>(i));
        SCOPED_TRACE(r.render());
        EXPECT_GE(r.code, 200);
        EXPECT_LT(r.code, 600);
        EXPECT_FALSE(r.text.empty() && i != static_cast<int>(ReplyName::kAuthChallenge));
        if (r.code / 100 == 3) {
            EXPECT_EQ(r.status, "");  // RFC 3463 has no 3.x.x class
        }
        if (r.status.empty()) continue;
        ASSERT_GE(r.status.size(), 5u);
        EXPECT_EQ(r.status[0] - '0', r.code / 100);
        EXPECT_EQ(r.status[1], '.');
    }
}

TEST(Replies, NamedCodes) {
    struct Row {
        ReplyName name;
        const char* wire;
    };
    for (const Row& row : {
             Row{ReplyName::kClosing, "221 2.0.0"},
             Row{ReplyName::kCannotVrfy, "252 2.5.0"},
             Row{ReplyName::kHelp, "214 2.0.0"},
             Row{ReplyName::kShuttingDown, "421 4.3.2"},
             Row{ReplyName::kTimeout, "421 4.4.2"},
             Row{ReplyName::kTooManyErrors, "421 4.7.0"},
             Row{ReplyName::kTooManyTransactions, "421 4.7.0"},
             Row{ReplyName::kTooManyRecipients, "452 4.5.3"},
             Row{ReplyName::kNotRecognized, "500 5.5.2"},
             Row{ReplyName::kBareCrInCommand, "500 5.5.2"},
             Row{ReplyName::kLineTooLong, "500 5.5.6"},
             Row{ReplyName::kBadSenderSyntax, "501 5.1.7"},
             Row{ReplyName::kNeedMail, "503 5.5.1"},
             Row{ReplyName::kEncryptionRequired, "538 5.7.11"},
             Row{ReplyName::kMessageTooBig, "552 5.3.4"},
             Row{ReplyName::kBadRecipientSyntax, "553 5.1.3"},
             Row{ReplyName::kNonAsciiAddress, "553 5.6.7"},
             Row{ReplyName::kNoValidRecipients, "554 5.5.1"},
             Row{ReplyName::kBareLineInData, "554 5.6.0"},
             Row{ReplyName::kBareCrInData, "554 5.6.0"},
             Row{ReplyName::kUnsupportedParam, "555 5.5.4"},
         }) {
        Reply r = reply(row.name);
        EXPECT_EQ(std::to_string(r.code) + " " + r.status, row.wire);
    }
}

TEST(Replies, ReplyForError) {
    auto wire = [](ErrorCode code) {
        Reply r = reply_for(Error{code, "why"});
        return std::to_string(r.code) + " " + r.status;
    };
    EXPECT_EQ(wire(ErrorCode::kNoSpace), "452 4.3.1");
    EXPECT_EQ(wire(ErrorCode::kIo), "451 4.3.0");
    EXPECT_EQ(wire(ErrorCode::kTimeout), "451 4.3.0");
    EXPECT_EQ(wire(ErrorCode::kPermanent), "554 5.3.0");
    EXPECT_EQ(wire(ErrorCode::kInvalid), "554 5.3.0");
}

}  // namespace
}  // namespace tern::smtp
