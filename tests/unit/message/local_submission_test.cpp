// Local submissions (`tern sendmail`): line ends, the lone-dot end, -t with To/Cc/Bcc and the
// Resent- fields, Bcc removed, From/Date/Message-ID added only when missing, a headerless text.
#include "message/local_submission.h"

#include <gtest/gtest.h>

namespace tern::message {
namespace {

using Strings = std::vector<std::string>;

LocalSubmissionOptions options(bool extract = false, bool dot_ends = true) {
    LocalSubmissionOptions o;
    o.extract_recipients = extract;
    o.dot_ends = dot_ends;
    o.sender = "root@localhost";
    o.hostname = "mx.example";
    o.now = std::chrono::system_clock::time_point(std::chrono::seconds(1764547200));
    return o;
}

TEST(LocalSubmission, LineEndsAndTheLoneDot) {
    std::string in = "Subject: s\nFrom: a@x\nDate: d\nMessage-ID: <m@x>\n\nline\r\n.\nafter\n";
    EXPECT_EQ(prepare_local_submission(in, options()).text,
              "Subject: s\r\nFrom: a@x\r\nDate: d\r\nMessage-ID: <m@x>\r\n\r\nline\r\n");
    EXPECT_EQ(
        prepare_local_submission(in, options(false, false)).text,
        "Subject: s\r\nFrom: a@x\r\nDate: d\r\nMessage-ID: <m@x>\r\n\r\nline\r\n.\r\nafter\r\n");
    // A last line without a line end gets one.
    EXPECT_EQ(
        prepare_local_submission("From: a@x\nDate: d\nMessage-ID: <m@x>\n\nno end", options()).text,
        "From: a@x\r\nDate: d\r\nMessage-ID: <m@x>\r\n\r\nno end\r\n");
}

TEST(LocalSubmission, MissingFieldsAreAdded) {
    auto o = options();
    o.full_name = "Cron, the Daemon";
    auto out = prepare_local_submission("Subject: s\n\nbody\n", o);
    EXPECT_TRUE(
        out.text.starts_with("Subject: s\r\nFrom: \"Cron, the Daemon\" <root@localhost>\r\n"
                             "Date: Mon, 01 Dec 2025 00:00:00 +0000\r\nMessage-ID: <"))
        << out.text;
    EXPECT_NE(out.text.find("@mx.example>\r\n\r\nbody\r\n"), std::string::npos) << out.text;
    EXPECT_EQ(display_name("Plain Name"), "Plain Name");
}

TEST(LocalSubmission, TextWithoutHeaderIsAllBody) {
    auto out = prepare_local_submission("just a line: with a colon later\n", options());
    EXPECT_TRUE(out.text.starts_with("From: root@localhost\r\nDate: ")) << out.text;
    EXPECT_TRUE(out.text.ends_with("\r\n\r\njust a line: with a colon later\r\n")) << out.text;
}

TEST(LocalSubmission, RecipientsFromTheHeader) {
    std::string in =
        "To: Alice <alice@x.example>, bob\nCc: carol@y.example\nBcc: secret@z.example\n"
        "Subject: s\n\nbody\n";
    auto out = prepare_local_submission(in, options(true));
    EXPECT_EQ(out.recipients, (Strings{"alice@x.example", "carol@y.example", "secret@z.example"}));
    EXPECT_EQ(out.invalid, (Strings{"bob"}));
    EXPECT_EQ(out.text.find("Bcc"), std::string::npos) << out.text;
    EXPECT_EQ(out.text.find("secret"), std::string::npos) << out.text;
    // Without -t nothing is taken, and Bcc still goes.
    auto plain = prepare_local_submission(in, options(false));
    EXPECT_TRUE(plain.recipients.empty());
    EXPECT_EQ(plain.text.find("Bcc"), std::string::npos);
}

TEST(LocalSubmission, ResentFieldsWinWhenPresent) {
    std::string in =
        "To: old@x.example\nResent-To: new@y.example\nResent-Bcc: hid@z.example\n\nb\n";
    auto out = prepare_local_submission(in, options(true));
    EXPECT_EQ(out.recipients, (Strings{"new@y.example", "hid@z.example"}));
    EXPECT_EQ(out.text.find("Resent-Bcc"), std::string::npos);
}

}  // namespace
}  // namespace tern::message
