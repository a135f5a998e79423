// Unit tests of the retry schedule, expiry and delay-notice timing, and of the NOTIFY rules
// that decide which notices a message owes.
#include "queue/retry_policy.h"

#include <gtest/gtest.h>

#include "queue/notices.h"

namespace tern::queue {
namespace {

using std::chrono::seconds;

TEST(RetryPolicy, FollowsScheduleThenRepeatsLast) {
    RetryPolicy p{{seconds(60), seconds(300), seconds(3600)}, seconds(86400), seconds(14400)};
    EXPECT_EQ(p.next_attempt(1, 1000), 1060);
    EXPECT_EQ(p.next_attempt(2, 1000), 1300);
    EXPECT_EQ(p.next_attempt(3, 1000), 4600);
    EXPECT_EQ(p.next_attempt(9, 1000), 4600);
}

TEST(RetryPolicy, ExpiryAndDelayNotice) {
    RetryPolicy p{{seconds(1)}, seconds(100), seconds(10)};
    EXPECT_FALSE(p.expired(1000, 1099));
    EXPECT_TRUE(p.expired(1000, 1100));
    EXPECT_EQ(p.delay_notice_at(1000), 1010);
    p.delay_warning = seconds(0);
    EXPECT_EQ(p.delay_notice_at(1000), 0);
}

spool::Message message_with(std::vector<spool::RecipientStatus> states,
                            std::string sender = "a@example.com") {
    spool::Message m;
    m.id = "0ABCDEFGHJKMNPQR";
    m.sender = std::move(sender);
    for (auto s : states) {
        spool::Recipient r;
        r.address = "r@example.org";
        r.status = s;
        r.reply = "550 5.1.1 No such user";
        m.recipients.push_back(r);
    }
    return m;
}

TEST(Notices, FailureNoticeFollowsNotify) {
    auto m = message_with({spool::RecipientStatus::kFailed, spool::RecipientStatus::kFailed,
                           spool::RecipientStatus::kFailed, spool::RecipientStatus::kDelivered});
    m.recipients[1].notify.never = true;
    m.recipients[2].notify.success = true;  // given without FAILURE: no failure notice
    EXPECT_EQ(recipients_owing(m, NoticeKind::kFailure), std::vector<std::size_t>{0});
    EXPECT_TRUE(recipients_owing(m, NoticeKind::kSuccess).empty());
    m.recipients[3].notify.success = true;
    EXPECT_EQ(recipients_owing(m, NoticeKind::kSuccess), std::vector<std::size_t>{3});
}

TEST(Notices, NeverToTheNullSender) {
    auto m = message_with({spool::RecipientStatus::kFailed, spool::RecipientStatus::kDeferred}, "");
    EXPECT_TRUE(recipients_owing(m, NoticeKind::kFailure).empty());
    EXPECT_TRUE(recipients_owing(m, NoticeKind::kDelay).empty());
}

TEST(Notices, ReportedRecipientsOweNothing) {
    auto m = message_with({spool::RecipientStatus::kFailed});
    m.recipients[0].reported = true;
    EXPECT_TRUE(recipients_owing(m, NoticeKind::kFailure).empty());
}

TEST(Notices, DelayNoticeForDeferredWithDefaultNotify) {
    auto m = message_with({spool::RecipientStatus::kDeferred, spool::RecipientStatus::kDeferred});
    m.recipients[1].notify.failure = true;  // FAILURE only: no delay notice
    EXPECT_EQ(recipients_owing(m, NoticeKind::kDelay), std::vector<std::size_t>{0});
}

TEST(Notices, StatusOfReply) {
    EXPECT_EQ(status_of_reply("550 5.1.1 User unknown"), "5.1.1");
    EXPECT_EQ(status_of_reply("451 4.4.1 Connection refused"), "4.4.1");
    EXPECT_EQ(status_of_reply("554 no status here"), "5.0.0");
    EXPECT_EQ(status_of_reply("421 Service not available"), "4.0.0");
    EXPECT_EQ(status_of_reply(""), "5.0.0");
}

TEST(Notices, RequestCarriesDsnFields) {
    auto m = message_with({spool::RecipientStatus::kFailed});
    m.envid = "ENV1";
    m.recipients[0].orcpt = "rfc822;orig@example.org";
    m.recipients[0].remote_host = "mx.example.org[192.0.2.1]";
    m.recipients[0].from_host = true;
    NoticeContext ctx{"mx.test", 1000, 86400};
    auto req = notice_request(m, {0}, NoticeKind::kFailure, "Subject: x\r\n\r\nbody\r\n", ctx,
                              "<n@mx.test>");
    EXPECT_EQ(req.to, "a@example.com");
    EXPECT_EQ(req.envelope_id, "ENV1");
    ASSERT_EQ(req.recipients.size(), 1u);
    EXPECT_EQ(req.recipients[0].status, "5.1.1");
    EXPECT_EQ(req.recipients[0].original_recipient, "rfc822;orig@example.org");
    // Remote-MTA names the host only (RFC 3464 2.3.5); the address stays in queue show.
    EXPECT_EQ(req.recipients[0].remote_mta, "mx.example.org");
    EXPECT_EQ(req.recipients[0].diagnostic_type, "smtp");
    EXPECT_EQ(req.recipients[0].action, message::DsnAction::kFailed);
}

TEST(Notices, TernsOwnDecisionIsNotAttributedToTheHost) {
    // The next hop did not offer SMTPUTF8: Tern decided, the host said nothing of the kind.
    auto m = message_with({spool::RecipientStatus::kFailed});
    m.recipients[0].reply = "553 5.6.7 the receiving server does not support SMTPUTF8";
    m.recipients[0].remote_host = "mx.example.org[192.0.2.1]:25";
    m.recipients[0].from_host = false;
    NoticeContext ctx{"mx.test", 1000, 86400};
    auto req = notice_request(m, {0}, NoticeKind::kFailure, "", ctx, "<n@mx.test>");
    ASSERT_EQ(req.recipients.size(), 1u);
    EXPECT_EQ(req.recipients[0].status, "5.6.7");
    EXPECT_EQ(req.recipients[0].remote_mta, "");
    EXPECT_EQ(req.recipients[0].diagnostic_type, "X-Tern");
    EXPECT_EQ(req.recipients[0].diagnostic, m.recipients[0].reply);
}

TEST(Notices, AVerdictDecidesTheStatusAndKeepsTheLastReply) {
    auto m = message_with({spool::RecipientStatus::kFailed});
    m.recipients[0].reply = "451 4.4.1 connection refused by the host";
    m.recipients[0].remote_host = "mx.example.org[192.0.2.1]:25";
    m.recipients[0].from_host = true;
    m.recipients[0].verdict = "554 5.0.0 Message returned to sender by the postmaster";
    NoticeContext ctx{"mx.test", 1000, 86400};
    auto req = notice_request(m, {0}, NoticeKind::kFailure, "", ctx, "<n@mx.test>");
    ASSERT_EQ(req.recipients.size(), 1u);
    EXPECT_EQ(req.recipients[0].status, "5.0.0");
    EXPECT_EQ(req.recipients[0].verdict, m.recipients[0].verdict);
    EXPECT_EQ(req.recipients[0].diagnostic, m.recipients[0].reply);  // the real one, kept
    EXPECT_EQ(req.recipients[0].diagnostic_type, "smtp");
    EXPECT_EQ(req.recipients[0].remote_mta, "mx.example.org");
    // Never attempted: the verdict is all there is to say.
    m.recipients[0].reply.clear();
    m.recipients[0].remote_host.clear();
    req = notice_request(m, {0}, NoticeKind::kFailure, "", ctx, "<n@mx.test>");
    EXPECT_EQ(req.recipients[0].diagnostic, m.recipients[0].verdict);
    EXPECT_EQ(req.recipients[0].diagnostic_type, "X-Tern");
    EXPECT_EQ(req.recipients[0].verdict, "");
}

TEST(Notices, DurationText) {
    EXPECT_EQ(duration_text(5 * 86400), "5d");
    EXPECT_EQ(duration_text(5400), "1h30m");
    EXPECT_EQ(duration_text(45), "45s");
    EXPECT_EQ(duration_text(0), "0s");
}

}  // namespace
}  // namespace tern::queue
