// AccessStage: sender ownership at MAIL (RFC 6409 6.1), and at RCPT local users, aliases, accounts
// (and an account store that cannot answer), SRS addresses of ours, the feedback inbox's VERP
// and complaint addresses, and relay permission.
#include "policy/access_stage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/text.h"
#include "delivery/srs_rewriter.h"
#include "feedback/inbox.h"
#include "smtp/reply_parser.h"
#include "test_async.h"

namespace tern::policy {
namespace {

using pipeline::Verdict;
using tern::testing::run_until_done;

constexpr std::int64_t kNow = 1764547200 + 3600;

class AccessStageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tern-access-XXXXXX");
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        std::ofstream(dir_ + "/aliases") << "team: alice, carol@remote.example\n"
                                            "loop1: loop2\nloop2: loop1\n";
        delivery::LocalDirectoryOptions o;
        o.domains = {"example.com"};
        o.users = {"alice", "bob"};
        o.aliases_file = dir_ + "/aliases";
        auto loaded = delivery::LocalDirectory::load(o);
        ASSERT_TRUE(loaded) << loaded.error().message;
        directory_ = std::move(*loaded);
        auto senders = auth::SenderMap::parse("@shop.example: bob@example.com\n", "senders");
        ASSERT_TRUE(senders) << senders.error().message;
        senders_ = std::move(*senders);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    AccessStage stage(bool bounces_only = false) {
        delivery::SrsRewriterOptions s;
        s.enabled = true;
        s.codec.secrets = {"tern-test-secret"};
        s.bounces_only = bounces_only;
        srs_ = std::make_unique<delivery::SrsRewriter>(
            s, [](std::string_view d) { return ascii_iequals(d, "example.com"); }, "example.com");
        recipients_ = std::make_unique<RecipientPolicy>(directory_, srs_.get(), &inbox_);
        AccessOptions o;
        o.recipients = recipients_.get();
        o.senders = &senders_;
        o.account_exists = [this](std::string address) -> boost::asio::awaitable<Result<bool>> {
            if (store_down_) co_return std::unexpected(Error{ErrorCode::kIo, "store down"});
            co_return address == "dave@example.com";
        };
        o.now = [] { return kNow; };
        return AccessStage(std::move(o));
    }

    static smtp::MailCommand mail(std::string_view args) {
        auto m = smtp::parse_mail(args, smtp::Offered{.esmtp = true});
        EXPECT_TRUE(m) << args;
        return m ? *m : smtp::MailCommand{};
    }

    Verdict rcpt(AccessStage& s, std::string_view to, bool trusted,
                 std::string_view from = "FROM:<x@sender.example>") {
        pipeline::SessionInfo info;
        info.client_ip = "192.0.2.1";
        info.trusted = trusted;
        auto r = smtp::parse_rcpt(to, smtp::Offered{.esmtp = true}, false);
        EXPECT_TRUE(r) << to;
        return run_until_done(s.on_rcpt(info, mail(from), *r));
    }

    Verdict sender(AccessStage& s, std::string_view user, std::string_view from) {
        pipeline::SessionInfo info;
        info.client_ip = "192.0.2.1";
        info.auth_user = std::string(user);
        info.trusted = !user.empty();
        return run_until_done(s.on_mail(info, mail(from)));
    }

    std::string srs_address(std::string_view original) {
        delivery::SrsCodec codec(delivery::SrsOptions{.secrets = {"tern-test-secret"}});
        auto made = codec.forward(original, "example.com", kNow);
        EXPECT_TRUE(made);
        return made ? *made : std::string();
    }

    std::string dir_;
    delivery::LocalDirectory directory_;
    auth::SenderMap senders_;
    std::unique_ptr<delivery::SrsRewriter> srs_;
    std::unique_ptr<RecipientPolicy> recipients_;
    feedback::VerpCodec verp_{{"bounces.example.com", {"feedback-test-secret"}, "b"}};
    feedback::FeedbackInbox inbox_{verp_, {"fbl@example.com"}};
    bool store_down_ = false;
};

std::string line(const Verdict& v) {
    return v.final() ? smtp::reply_line(v.reply) : "continue";
}

TEST_F(AccessStageTest, LocalRecipients) {
    auto s = stage();
    EXPECT_EQ(line(rcpt(s, "TO:<alice@example.com>", false)), "continue");
    EXPECT_EQ(line(rcpt(s, "TO:<Team@EXAMPLE.com>", false)), "continue");
    EXPECT_EQ(line(rcpt(s, "TO:<postmaster>", false)), "continue");
    EXPECT_EQ(line(rcpt(s, "TO:<dave@example.com>", false)), "continue");  // an account
    auto unknown = rcpt(s, "TO:<nobody@example.com>", false);
    EXPECT_EQ(unknown.kind, Verdict::Kind::kReject);
    EXPECT_EQ(unknown.reason, "unknown user");
    EXPECT_EQ(smtp::reply_line(unknown.reply), "550 5.1.1 User unknown in local recipient table");
    auto loop = rcpt(s, "TO:<loop1@example.com>", false);
    EXPECT_EQ(loop.reason, "alias loop");
    EXPECT_EQ(loop.reply.status, "5.4.6");
}

TEST_F(AccessStageTest, AccountStoreDownDefers) {
    auto s = stage();
    store_down_ = true;
    auto v = rcpt(s, "TO:<nobody@example.com>", false);
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_EQ(v.reply.code, 451);
    EXPECT_EQ(v.reply.status, "4.3.0");
    // Known users are answered from the directory without the store.
    EXPECT_EQ(line(rcpt(s, "TO:<alice@example.com>", false)), "continue");
}

TEST_F(AccessStageTest, RelayOnlyForTrustedClients) {
    auto s = stage();
    auto v = rcpt(s, "TO:<someone@elsewhere.example>", false);
    EXPECT_EQ(v.kind, Verdict::Kind::kReject);
    EXPECT_EQ(v.reason, "relay denied");
    EXPECT_EQ(v.reply.code, 554);
    EXPECT_EQ(v.reply.status, "5.7.1");
    EXPECT_EQ(line(rcpt(s, "TO:<someone@elsewhere.example>", true)), "continue");
}

TEST_F(AccessStageTest, SrsAddressesOfOurs) {
    auto s = stage();
    std::string good = srs_address("carol@remote.example");
    ASSERT_FALSE(good.empty());
    // Anyone may send to a valid SRS address of ours: it is how bounces come back.
    EXPECT_EQ(line(rcpt(s, "TO:<" + good + ">", false)), "continue");
    std::string forged = good;
    forged[5] = forged[5] == 'A' ? 'B' : 'A';  // a hash character
    auto v = rcpt(s, "TO:<" + forged + ">", false);
    EXPECT_EQ(v.kind, Verdict::Kind::kReject);
    EXPECT_EQ(v.reply.status, "5.1.1");
    // A refused SRS address is not asked about as an account, even with the store down.
    store_down_ = true;
    EXPECT_EQ(rcpt(s, "TO:<" + forged + ">", false).reply.code, 550);
    store_down_ = false;
    auto only = stage(true);
    EXPECT_EQ(line(rcpt(only, "TO:<" + good + ">", false, "FROM:<>")), "continue");
    auto not_bounce = rcpt(only, "TO:<" + good + ">", false);
    EXPECT_EQ(not_bounce.reply.code, 554);
}

TEST_F(AccessStageTest, SenderOwnership) {
    auto s = stage();
    EXPECT_EQ(line(sender(s, "", "FROM:<anyone@anywhere.example>")), "continue");  // not authed
    EXPECT_EQ(line(sender(s, "alice@example.com", "FROM:<alice@example.com>")), "continue");
    EXPECT_EQ(line(sender(s, "alice@example.com", "FROM:<alice+news@example.com>")), "continue");
    EXPECT_EQ(line(sender(s, "bob@example.com", "FROM:<orders@shop.example>")), "continue");
    auto v = sender(s, "alice@example.com", "FROM:<orders@shop.example>");
    EXPECT_EQ(v.kind, Verdict::Kind::kReject);
    EXPECT_EQ(v.reason, "sender not owned");
    EXPECT_EQ(smtp::reply_line(v.reply),
              "553 5.7.1 Sender address <orders@shop.example> is not owned by alice@example.com");
    // The null sender is never owned: bounces cannot be forged through submission.
    EXPECT_EQ(sender(s, "alice@example.com", "FROM:<>").reply.code, 553);
}

TEST_F(AccessStageTest, AnyoneMaySendWithoutASenderMap) {
    AccessOptions o;
    recipients_ = std::make_unique<RecipientPolicy>(directory_);
    o.recipients = recipients_.get();
    AccessStage s(std::move(o));
    EXPECT_EQ(line(sender(s, "alice@example.com", "FROM:<x@shop.example>")), "continue");
}

TEST_F(AccessStageTest, FeedbackAddresses) {
    auto s = stage();
    std::string verp = *verp_.encode("ABC123", "carol@remote.example");
    // Any client, any sender: reports come from everywhere, with <> or a sender.
    EXPECT_EQ(line(rcpt(s, "TO:<" + verp + ">", false, "FROM:<>")), "continue");
    EXPECT_EQ(line(rcpt(s, "TO:<" + verp + ">", false)), "continue");
    EXPECT_EQ(line(rcpt(s, "TO:<postmaster@bounces.example.com>", false)), "continue");
    // At a local domain, though no user of it: the complaint address.
    EXPECT_EQ(line(rcpt(s, "TO:<FBL@example.com>", false)), "continue");
    // A forged tag, another address at the bounce domain: refused by the tag alone, even with
    // the account store down.
    store_down_ = true;
    std::string forged = verp;
    forged.replace(forged.find("carol="), 6, "eve=");
    EXPECT_TRUE(line(rcpt(s, "TO:<" + forged + ">", false)).starts_with("550 5.1.1 "));
    EXPECT_TRUE(line(rcpt(s, "TO:<anyone@bounces.example.com>", true)).starts_with("550 5.1.1 "));
    // The accepted ones are spooled as they are, not as local mailboxes.
    smtp::Recipient r;
    r.path = smtp::parse_rcpt("TO:<" + verp + ">", smtp::Offered{.esmtp = true}, false)->recipient;
    std::vector<spool::Recipient> out;
    recipients_->expand(r, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].address, verp);
    EXPECT_FALSE(out[0].forwarded);
}

}  // namespace
}  // namespace tern::policy
