// report_events: what a report makes, for the address it came to: a bounce to a VERP address is
// a "bounced" event of the message and recipient the address names (classified), a delay a
// "deferred" one, a complaint carrying a VERP address a "complained" one; a report no tag
// vouches for, a success, a not-spam report, an auto-reply make none.
#include <gtest/gtest.h>

#include "feedback/feedback_transport.h"

namespace tern::feedback {
namespace {

struct Fixture {
    VerpCodec verp{{"bounces.example.com", {"a secret of enough length"}, "b"}};
    FeedbackInbox inbox{verp, {"fbl@shop.example.com"}};
    std::unique_ptr<bounce::BounceClassifier> classifier = *bounce::BounceClassifier::create({});
    std::string to = *verp.encode("ABC123", "bob@example.org");

    // As the transport does for a full VERP address (compact ones need the sent index).
    std::vector<events::Event> events(const Report& r, const std::string& address) {
        auto target = full_target(r, address, verp);
        if (!target) return {};
        return report_events(r, *target, classifier.get(), 1700000000);
    }
};

Report dsn(std::string recipient, std::string action, std::string status, std::string diag) {
    Report r;
    r.kind = ReportKind::kDsn;
    r.reporting_mta = "mx.example.org";
    r.recipients.push_back(
        {std::move(recipient), "", std::move(action), std::move(status), std::move(diag), ""});
    return r;
}

TEST(ReportEvents, BounceToVerpAddress) {
    Fixture f;
    auto made = f.events(dsn("Bob@example.org", "failed", "5.1.1",
                             "550 5.1.1 The email account that you tried to reach does not exist"),
                         f.to);
    ASSERT_EQ(made.size(), 1u);
    EXPECT_EQ(made[0].type, "bounced");
    EXPECT_EQ(made[0].id, "ABC123");
    EXPECT_EQ(made[0].recipient, "bob@example.org");
    EXPECT_EQ(made[0].category, "invalid_recipient");
    EXPECT_EQ(made[0].report, "dsn");
    EXPECT_EQ(made[0].remote_host, "mx.example.org");
    EXPECT_EQ(made[0].time, 1700000000);
}

TEST(ReportEvents, StatusWithoutReplyCodeIsClassified) {
    Fixture f;
    auto made = f.events(dsn("someone-else@example.net", "failed", "5.2.2", "mailbox full"), f.to);
    ASSERT_EQ(made.size(), 1u);
    // A forwarded address: the recipient Tern sent to is the one the VERP address names.
    EXPECT_EQ(made[0].recipient, "bob@example.org");
    EXPECT_EQ(made[0].reply, "5.2.2 mailbox full");
    EXPECT_EQ(made[0].category, "mailbox_full");
}

TEST(ReportEvents, DelaysSuccessesAndNothing) {
    Fixture f;
    auto later = f.events(dsn("bob@example.org", "delayed", "4.4.1", "connection timed out"), f.to);
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].type, "deferred");
    EXPECT_TRUE(f.events(dsn("bob@example.org", "delivered", "2.0.0", ""), f.to).empty());
    Report none;
    none.why = "auto-reply";
    EXPECT_TRUE(f.events(none, f.to).empty());
}

TEST(ReportEvents, UnvouchedReportsMakeNone) {
    Fixture f;
    // To the feedback address, nothing of ours named: anyone could have sent it.
    EXPECT_TRUE(f.events(dsn("bob@example.org", "failed", "5.1.1", "550 5.1.1 gone"),
                         "fbl@shop.example.com")
                    .empty());
    // A forged VERP address.
    std::string forged = f.to;
    forged.replace(forged.find("bob="), 4, "eve=");
    EXPECT_TRUE(
        f.events(dsn("eve@example.org", "failed", "5.1.1", "550 5.1.1 gone"), forged).empty());
}

TEST(ReportEvents, Complaints) {
    Fixture f;
    Report c;
    c.kind = ReportKind::kComplaint;
    c.feedback_type = "abuse";
    c.user_agent = "Yahoo!-Mail-Feedback/2.0";
    c.original_rcpt_to = {"bob@example.org"};
    // Unmatched: no VERP address in it.
    EXPECT_TRUE(f.events(c, "fbl@shop.example.com").empty());
    c.original_return_path = f.to;
    auto made = f.events(c, "fbl@shop.example.com");
    ASSERT_EQ(made.size(), 1u);
    EXPECT_EQ(made[0].type, "complained");
    EXPECT_EQ(made[0].category, "abuse");
    EXPECT_EQ(made[0].id, "ABC123");
    EXPECT_EQ(made[0].recipient, "bob@example.org");
    EXPECT_EQ(made[0].remote_host, "Yahoo!-Mail-Feedback/2.0");
    EXPECT_EQ(made[0].report, "complaint");
    c.feedback_type = "not-spam";
    EXPECT_TRUE(f.events(c, "fbl@shop.example.com").empty());
    c.feedback_type = "";
    c.original_return_path.clear();
    c.original_mail_from = f.to;
    made = f.events(c, "fbl@shop.example.com");
    ASSERT_EQ(made.size(), 1u);
    EXPECT_EQ(made[0].category, "abuse");
}

}  // namespace
}  // namespace tern::feedback
