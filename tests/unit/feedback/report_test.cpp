// read_report: a corpus of reports modelled on what MTAs and mailbox providers send
// (samples/*.eml, their expected facts in samples/expected.tsv), then the cases that matter on
// their own: a DSN's fields and folding, text bounces, complaints, what is not a report, and
// hostile structure.
#include "feedback/report.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/text.h"
#include "test_files.h"

namespace tern::feedback {
namespace {

const std::string kSamples = std::string(TERN_SOURCE_DIR) + "/tests/unit/feedback/samples";

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    std::string cell;
    while (std::getline(in, cell, '\t'))
        out.push_back(cell);
    return out;
}

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

TEST(ReadReport, Corpus) {
    std::ifstream index(kSamples + "/expected.tsv");
    ASSERT_TRUE(index) << "no " << kSamples << "/expected.tsv";
    std::string line;
    std::getline(index, line);  // the header
    std::size_t checked = 0;
    while (std::getline(index, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto cell = split_tabs(line);
        ASSERT_GE(cell.size(), 8u) << line;
        const std::string& file = cell[0];
        SCOPED_TRACE(file);
        std::string text = testing::read_file(kSamples + "/" + file);
        ASSERT_FALSE(text.empty());
        Report r = read_report(text);
        EXPECT_EQ(kind_name(r.kind), cell[1]);
        ++checked;
        if (r.kind == ReportKind::kComplaint) {
            EXPECT_EQ(or_dash(r.feedback_type), cell[6]);
            EXPECT_EQ(or_dash(r.original_mail_from), cell[7]);
            std::string rcpt = r.original_rcpt_to.empty() ? "-" : r.original_rcpt_to.front();
            EXPECT_EQ(ascii_lower(rcpt), ascii_lower(cell[2]));
            continue;
        }
        if (r.kind == ReportKind::kNone) continue;
        ASSERT_FALSE(r.recipients.empty());
        const auto& first = r.recipients.front();
        EXPECT_EQ(ascii_lower(or_dash(first.recipient)), ascii_lower(cell[2]));
        EXPECT_EQ(or_dash(first.action), cell[3]);
        EXPECT_EQ(or_dash(first.status), cell[4]);
        if (cell[5] != "-") {
            EXPECT_NE(first.diagnostic.find(cell[5]), std::string::npos)
                << "diagnostic: " << first.diagnostic;
        }
    }
    EXPECT_GE(checked, 20u);
}

const char kPostfixDsn[] =
    "Return-Path: <>\r\n"
    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "To: b-abc123-0123456789-bob=example.org@bounces.example.com\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"B1/mx.example.net\"\r\n"
    "\r\n"
    "This is a MIME-encapsulated message.\r\n"
    "\r\n"
    "--B1/mx.example.net\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n"
    "\r\n"
    "--B1/mx.example.net\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mx.example.net\r\n"
    "X-Postfix-Queue-ID: 4Xyz\r\n"
    "Arrival-Date: Mon,  1 Dec 2026 10:00:00 +0000 (UTC)\r\n"
    "\r\n"
    "Final-Recipient: rfc822; Bob@example.org\r\n"
    "Original-Recipient: rfc822;bob@example.org\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mail.example.org\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected:\r\n"
    "    User unknown in virtual mailbox table\r\n"
    "\r\n"
    "Final-Recipient: rfc822; carol@example.org\r\n"
    "Action: delivered\r\n"
    "Status: 2.0.0\r\n"
    "\r\n"
    "--B1/mx.example.net\r\n"
    "Content-Description: Undelivered Message Headers\r\n"
    "Content-Type: text/rfc822-headers\r\n"
    "\r\n"
    "Return-Path: <b-abc123-0123456789-bob=example.org@bounces.example.com>\r\n"
    "Message-ID: <m1@shop.example.com>\r\n"
    "To: bob@example.org\r\n"
    "\r\n"
    "--B1/mx.example.net--\r\n";

TEST(ReadReport, DeliveryStatusFields) {
    Report r = read_report(kPostfixDsn);
    ASSERT_EQ(r.kind, ReportKind::kDsn);
    EXPECT_EQ(r.reporting_mta, "mx.example.net");
    ASSERT_EQ(r.recipients.size(), 2u);
    const auto& bob = r.recipients[0];
    EXPECT_EQ(bob.recipient, "Bob@example.org");
    EXPECT_EQ(bob.original_recipient, "bob@example.org");
    EXPECT_EQ(bob.action, "failed");
    EXPECT_EQ(bob.status, "5.1.1");
    EXPECT_EQ(bob.remote_mta, "mail.example.org");
    EXPECT_EQ(bob.diagnostic,
              "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual "
              "mailbox table");
    EXPECT_EQ(r.recipients[1].action, "delivered");
    EXPECT_EQ(r.original_return_path, "b-abc123-0123456789-bob=example.org@bounces.example.com");
    EXPECT_EQ(r.original_message_id, "<m1@shop.example.com>");
}

TEST(ReadReport, LfLineEndsAndBase64Status) {
    // The same report with LF line ends and its delivery-status part in base64.
    std::string text =
        "From: Mail Delivery Subsystem <mailer-daemon@example.net>\n"
        "Subject: Returned mail: see transcript for details\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=XX\n"
        "\n"
        "--XX\n"
        "Content-Type: text/plain\n"
        "\n"
        "The original message was received at Mon, 1 Dec 2026\n"
        "\n"
        "--XX\n"
        "Content-Type: message/delivery-status\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        // "Reporting-MTA: dns; a.example.net\n\nFinal-Recipient: RFC822; x@example.org\n
        //  Action: failed\nStatus: 5.2.2\nDiagnostic-Code: SMTP; 552 5.2.2 Mailbox full\n"
        "UmVwb3J0aW5nLU1UQTogZG5zOyBhLmV4YW1wbGUubmV0CgpGaW5hbC1SZWNpcGllbnQ6IFJGQzgy\n"
        "MjsgeEBleGFtcGxlLm9yZwpBY3Rpb246IGZhaWxlZApTdGF0dXM6IDUuMi4yCkRpYWdub3N0aWMt\n"
        "Q29kZTogU01UUDsgNTUyIDUuMi4yIE1haWxib3ggZnVsbAo=\n"
        "--XX--\n";
    Report r = read_report(text);
    ASSERT_EQ(r.kind, ReportKind::kDsn);
    ASSERT_EQ(r.recipients.size(), 1u);
    EXPECT_EQ(r.recipients[0].recipient, "x@example.org");
    EXPECT_EQ(r.recipients[0].status, "5.2.2");
    EXPECT_EQ(r.recipients[0].diagnostic, "552 5.2.2 Mailbox full");
    EXPECT_EQ(r.reporting_mta, "a.example.net");
}

TEST(ReadReport, QmailBounce) {
    Report r = read_report(
        "From: MAILER-DAEMON@qmail.example.net\n"
        "Subject: failure notice\n"
        "\n"
        "Hi. This is the qmail-send program at qmail.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n"
        "\n"
        "<gone@example.org>:\n"
        "192.0.2.7 does not like recipient.\n"
        "Remote host said: 550 5.1.1 No such user here\n"
        "Giving up on 192.0.2.7.\n"
        "\n"
        "--- Below this line is a copy of the message.\n"
        "\n"
        "Return-Path: <b-x@bounces.example.com>\n"
        "To: other@example.org\n");
    ASSERT_EQ(r.kind, ReportKind::kBounce);
    ASSERT_EQ(r.recipients.size(), 1u);
    EXPECT_EQ(r.recipients[0].recipient, "gone@example.org");
    EXPECT_EQ(r.recipients[0].status, "5.1.1");
    EXPECT_EQ(r.recipients[0].action, "failed");
    EXPECT_NE(r.recipients[0].diagnostic.find("No such user here"), std::string::npos);
}

TEST(ReadReport, OldEximBounce) {
    Report r = read_report(
        "From: Mail Delivery System <Mailer-Daemon@exim.example.net>\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        "\n"
        "This message was created automatically by mail delivery software.\n"
        "\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n"
        "\n"
        "  nobody@example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<nobody@example.org>:\n"
        "    host mx.example.org [192.0.2.9]: 550 Unrouteable address\n"
        "\n"
        "------ This is a copy of the message, including all the headers. ------\n");
    ASSERT_EQ(r.kind, ReportKind::kBounce);
    ASSERT_EQ(r.recipients.size(), 1u);
    EXPECT_EQ(r.recipients[0].recipient, "nobody@example.org");
    EXPECT_EQ(r.recipients[0].status, "5.0.0");
    EXPECT_NE(r.recipients[0].diagnostic.find("550 Unrouteable address"), std::string::npos);
}

TEST(ReadReport, TemporaryTextNotice) {
    Report r = read_report(
        "From: postmaster@example.net\n"
        "Subject: Delivery Status Notification (Delay)\n"
        "\n"
        "Delivery to the following recipient has been delayed:\n"
        "\n"
        "     slow@example.org\n"
        "\n"
        "Message will be retried for 2 more day(s)\n");
    ASSERT_EQ(r.kind, ReportKind::kBounce);
    ASSERT_EQ(r.recipients.size(), 1u);
    EXPECT_EQ(r.recipients[0].recipient, "slow@example.org");
    EXPECT_EQ(r.recipients[0].action, "delayed");
}

TEST(ReadReport, NotReports) {
    Report ooo = read_report(
        "From: Jane <jane@example.org>\n"
        "Subject: Out of Office: your newsletter\n"
        "Auto-Submitted: auto-replied\n"
        "\n"
        "I am away until Monday. 550 people read this.\n");
    EXPECT_EQ(ooo.kind, ReportKind::kNone);
    EXPECT_EQ(ooo.why, "auto-reply");
    Report human = read_report(
        "From: Jane <jane@example.org>\n"
        "Subject: Re: your newsletter\n"
        "\n"
        "Please write to bob@example.org instead.\n");
    EXPECT_EQ(human.kind, ReportKind::kNone);
    // An auto-reply that quotes a subject reading like a notice, with a version number and a
    // phone number in its text.
    Report quoted = read_report(
        "From: Sam <sam@example.org>\n"
        "Subject: Automatic reply: Your parcel could not be delivered\n"
        "Auto-Submitted: auto-replied\n"
        "\n"
        "Away. Running v5.1.1 of the tracker; call 555 1234. Write to desk@example.org.\n");
    EXPECT_EQ(quoted.kind, ReportKind::kNone);
    EXPECT_EQ(quoted.why, "auto-reply");
    // A postmaster writing as a person: no failed address named the way notices do.
    Report person = read_report(
        "From: postmaster@example.net\n"
        "Subject: About your newsletter\n"
        "\n"
        "Please stop mailing our users; contact abuse@example.net.\n");
    EXPECT_EQ(person.kind, ReportKind::kNone);
    EXPECT_EQ(read_report("").kind, ReportKind::kNone);
    EXPECT_EQ(read_report("garbage without fields\n\n\n").kind, ReportKind::kNone);
}

TEST(ReadReport, MinimalComplaint) {
    // RFC 5965 Appendix B.1's minimal report, with a VERP return path.
    Report r = read_report(
        "From: <abusedesk@example.com>\n"
        "Date: Thu, 8 Mar 2005 17:40:36 EDT\n"
        "Subject: FW: Earn money\n"
        "To: <fbl@shop.example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=feedback-report;\n"
        "     boundary=\"part1_13d.2e68ed54_boundary\"\n"
        "\n"
        "--part1_13d.2e68ed54_boundary\n"
        "Content-Type: text/plain; charset=\"US-ASCII\"\n"
        "Content-Transfer-Encoding: 7bit\n"
        "\n"
        "This is an email abuse report for an email message received from IP\n"
        "192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.\n"
        "\n"
        "--part1_13d.2e68ed54_boundary\n"
        "Content-Type: message/feedback-report\n"
        "\n"
        "Feedback-Type: abuse\n"
        "User-Agent: SomeGenerator/1.0\n"
        "Version: 1\n"
        "Original-Mail-From: <b-abc123-0123456789-bob=example.org@bounces.example.com>\n"
        "Original-Rcpt-To: <bob@example.org>\n"
        "Source-IP: 192.0.2.1\n"
        "Reported-Domain: shop.example.com\n"
        "\n"
        "--part1_13d.2e68ed54_boundary\n"
        "Content-Type: message/rfc822\n"
        "Content-Disposition: inline\n"
        "\n"
        "Return-Path: <b-abc123-0123456789-bob=example.org@bounces.example.com>\n"
        "From: <news@shop.example.com>\n"
        "Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@shop.example.com>\n"
        "Subject: Earn money\n"
        "To: <bob@example.org>\n"
        "\n"
        "Spam Spam Spam\n"
        "--part1_13d.2e68ed54_boundary--\n");
    ASSERT_EQ(r.kind, ReportKind::kComplaint);
    EXPECT_EQ(r.feedback_type, "abuse");
    EXPECT_EQ(r.user_agent, "SomeGenerator/1.0");
    EXPECT_EQ(r.original_mail_from, "b-abc123-0123456789-bob=example.org@bounces.example.com");
    ASSERT_EQ(r.original_rcpt_to.size(), 1u);
    EXPECT_EQ(r.original_rcpt_to[0], "bob@example.org");
    EXPECT_EQ(r.source_ip, "192.0.2.1");
    EXPECT_EQ(r.reported_domain, "shop.example.com");
    EXPECT_EQ(r.original_return_path, "b-abc123-0123456789-bob=example.org@bounces.example.com");
    EXPECT_EQ(r.original_message_id, "<8787KJKJ3K4J3K4J3K4J3.mail@shop.example.com>");
}

TEST(ReadReport, HostileStructureIsBounded) {
    // Deep nesting, endless parts, no closing boundaries: read within the limits, no crash.
    std::string deep = "Content-Type: multipart/mixed; boundary=a\n\n";
    for (int i = 0; i < 5000; ++i)
        deep += "--a\nContent-Type: multipart/mixed; boundary=a\n\n";
    EXPECT_EQ(read_report(deep).kind, ReportKind::kNone);
    std::string wide =
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n";
    for (int i = 0; i < 20000; ++i)
        wide += "--b\nContent-Type: text/plain\n\nx\n";
    wide +=
        "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\n"
        "Action: failed\nStatus: 5.1.1\n";
    Report r = read_report(wide);  // the status part is past the part limit: not found
    EXPECT_NE(r.kind, ReportKind::kComplaint);
    std::string many = "Content-Type: message/delivery-status\n\n";
    for (int i = 0; i < 5000; ++i)
        many +=
            "Final-Recipient: rfc822; r" + std::to_string(i) + "@example.org\nAction: failed\n\n";
    // Lines that are no fields, continuations before any field, blank runs: one pass each.
    for (std::string unit : {" x\n", "x\n", "\n \n"}) {
        std::string junk = "Content-Type: message/delivery-status\n\n";
        while (junk.size() < 1000000)
            junk += unit;
        junk += std::string(500000, ' ');
        auto started = std::chrono::steady_clock::now();
        EXPECT_EQ(read_report(junk).kind, ReportKind::kDsn);
        // A guard against a quadratic pass (minutes), not a speed test.
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
    }
    Report m = read_report(many);
    EXPECT_EQ(m.kind, ReportKind::kDsn);
    EXPECT_EQ(m.recipients.size(), ReportLimits{}.max_recipients);
}

}  // namespace
}  // namespace tern::feedback
