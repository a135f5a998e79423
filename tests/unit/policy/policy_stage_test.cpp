// Unit tests of PolicyStage against a table of DNS answers: the weighted score of several lists,
// the reply a listed client gets (with the list's TXT), allow-listing, the log action, trusted
// clients, and each rate limit's hook and reply.
#include "policy/policy_stage.h"

#include <gtest/gtest.h>

#include <map>

#include "policy/local_store.h"
#include "smtp/reply_parser.h"
#include "test_async.h"

namespace tern::policy {
namespace {

using namespace std::chrono_literals;
using pipeline::SessionInfo;
using pipeline::Verdict;

// rdata as libunbound gives it: four octets for A, length-prefixed strings for TXT.
std::string a_rdata(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return std::string{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                       static_cast<char>(d)};
}

std::string txt_rdata(const std::string& text) {
    return std::string(1, static_cast<char>(text.size())) + text;
}

struct Fixture {
    std::map<std::pair<std::string, dns::RecordType>, dns::Answer> zone;
    std::vector<std::string> asked;
    log::Logger log{log::Format::kText, log::Level::kError};
    std::shared_ptr<PolicyStore> store;

    void add_a(const std::string& name, std::string rdata) {
        auto& a = zone[{name, dns::RecordType::kA}];
        a.status = dns::Answer::Status::kOk;
        a.rdata.push_back(std::move(rdata));
    }
    void add_txt(const std::string& name, const std::string& text) {
        auto& a = zone[{name, dns::RecordType::kTxt}];
        a.status = dns::Answer::Status::kOk;
        a.rdata.push_back(txt_rdata(text));
    }

    PolicyStage stage(PolicyOptions o) {
        store = LocalPolicyStore::open(LocalStoreOptions{o.greylist, "", {}}, log).value();
        return PolicyStage(
            std::move(o),
            [this](std::string name, dns::RecordType type) -> boost::asio::awaitable<dns::Answer> {
                asked.push_back(name);
                auto it = zone.find({name, type});
                dns::Answer none;
                none.status = dns::Answer::Status::kNxDomain;
                co_return it == zone.end() ? none : it->second;
            },
            store, log);
    }
};

SessionInfo client(std::string ip = "192.0.2.7") {
    SessionInfo s;
    s.client_ip = std::move(ip);
    return s;
}

smtp::MailCommand mail_from(const std::string& local, const std::string& domain) {
    smtp::MailCommand m;
    m.sender.mailbox = smtp::Mailbox{local, domain};
    return m;
}

smtp::RcptCommand rcpt_to(const std::string& local) {
    smtp::RcptCommand r;
    r.recipient.mailbox = smtp::Mailbox{local, "example.com"};
    return r;
}

std::vector<DnsblSite> sites(std::initializer_list<const char*> texts) {
    std::vector<DnsblSite> out;
    for (auto t : texts)
        out.push_back(*parse_dnsbl_site(t));
    return out;
}

Verdict rcpt(PolicyStage& s, const SessionInfo& who) {
    return testing::run_until_done(s.on_rcpt(who, mail_from("a", "a.example"), rcpt_to("b")));
}

TEST(PolicyStage, ListedClientIsRefusedWithTheListsText) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 2));
    f.add_txt("7.2.0.192.bl.example.net", "Listed: see https://bl.example.net/192.0.2.7");
    PolicyOptions o;
    o.dnsbl_sites = sites({"other.example.org*2", "bl.example.net*2"});
    o.dnsbl_threshold = 2;
    auto stage = f.stage(o);
    EXPECT_EQ(stage.hooks(), static_cast<unsigned>(pipeline::kOnRcpt));
    auto v = rcpt(stage, client());
    EXPECT_EQ(v.kind, Verdict::Kind::kReject);
    EXPECT_EQ(smtp::reply_line(v.reply),
              "554 5.7.1 Service unavailable; client blocked; Client host [192.0.2.7] blocked "
              "using bl.example.net; Listed: see https://bl.example.net/192.0.2.7");
    // Both lists were asked.
    EXPECT_NE(std::find(f.asked.begin(), f.asked.end(), "7.2.0.192.other.example.org"),
              f.asked.end());
}

TEST(PolicyStage, ScoreBelowTheThresholdPasses) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 2));
    PolicyOptions o;
    o.dnsbl_sites = sites({"bl.example.net*1", "b2.example.net*1"});
    o.dnsbl_threshold = 2;
    auto stage = f.stage(o);
    EXPECT_EQ(rcpt(stage, client()).kind, Verdict::Kind::kContinue);
    // On the second list too: 1 + 1 reaches 2.
    f.add_a("7.2.0.192.b2.example.net", a_rdata(127, 0, 0, 4));
    EXPECT_EQ(rcpt(stage, client()).kind, Verdict::Kind::kReject);
}

TEST(PolicyStage, FilterLeavesOtherCodesOut) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 10));
    PolicyOptions o;
    o.dnsbl_sites = sites({"bl.example.net=127.0.0.[2..4]"});
    auto stage = f.stage(o);
    EXPECT_EQ(rcpt(stage, client()).kind, Verdict::Kind::kContinue);
}

TEST(PolicyStage, AllowListOutweighsABlockList) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 2));
    f.add_a("7.2.0.192.wl.example.net", a_rdata(127, 0, 15, 3));
    PolicyOptions o;
    o.dnsbl_sites = sites({"bl.example.net*1", "wl.example.net=127.0.[0..255].[1..3]*-5"});
    o.allowlist_threshold = -2;
    o.client_recipients = Rate{1, 60s};
    auto stage = f.stage(o);
    // Score -4: allow-listed, so not refused and free of the per-address limit.
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(rcpt(stage, client()).kind, Verdict::Kind::kContinue);
}

TEST(PolicyStage, DeferAndLogActions) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 2));
    PolicyOptions o;
    o.dnsbl_sites = sites({"bl.example.net"});
    o.listed_action = ListedAction::kDefer;
    auto deferring = f.stage(o);
    auto v = rcpt(deferring, client());
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_EQ(v.reply.code, 450);
    EXPECT_EQ(v.reply.status, "4.7.1");
    o.listed_action = ListedAction::kLog;
    auto logging = f.stage(o);
    EXPECT_EQ(rcpt(logging, client()).kind, Verdict::Kind::kContinue);
}

TEST(PolicyStage, ScoreActionAddsTheListScoreAndGoesOn) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 2));
    f.add_a("7.2.0.192.wl.example.net", a_rdata(127, 0, 0, 3));
    PolicyOptions o;
    o.dnsbl_sites = sites({"bl.example.net*5", "wl.example.net*-2", "b3.example.net*4"});
    o.dnsbl_threshold = 1;
    o.listed_action = ListedAction::kScore;
    auto stage = f.stage(o);
    auto v = rcpt(stage, client());
    EXPECT_EQ(v.kind, Verdict::Kind::kContinue);  // over the threshold, yet not refused
    EXPECT_EQ(v.scores, (std::vector<pipeline::ScoreItem>{{"dnsbl", 3}}));
    // A client no list names adds nothing.
    auto other = client();
    other.client_ip = "192.0.2.8";
    EXPECT_TRUE(rcpt(stage, other).scores.empty());
}

TEST(PolicyStage, TrustedClientsAreNotLookedUp) {
    Fixture f;
    f.add_a("7.2.0.192.bl.example.net", a_rdata(127, 0, 0, 2));
    PolicyOptions o;
    o.dnsbl_sites = sites({"bl.example.net"});
    auto stage = f.stage(o);
    auto who = client();
    who.trusted = true;
    EXPECT_EQ(rcpt(stage, who).kind, Verdict::Kind::kContinue);
    EXPECT_TRUE(f.asked.empty());
}

TEST(PolicyStage, RefusedQueryIsNotAListing) {
    Fixture f;
    f.add_a("7.2.0.192.zen.example.org", a_rdata(127, 255, 255, 254));
    PolicyOptions o;
    o.dnsbl_sites = sites({"zen.example.org"});
    auto stage = f.stage(o);
    EXPECT_EQ(rcpt(stage, client()).kind, Verdict::Kind::kContinue);
}

TEST(PolicyStage, ConnectionRatePerAddress) {
    Fixture f;
    PolicyOptions o;
    o.client_connections = Rate{2, 60s};
    auto stage = f.stage(o);
    EXPECT_EQ(stage.hooks(), static_cast<unsigned>(pipeline::kOnConnect));
    auto run = [&](const SessionInfo& who) {
        return testing::run_until_done(stage.on_connect(who));
    };
    EXPECT_EQ(run(client()).kind, Verdict::Kind::kContinue);
    EXPECT_EQ(run(client()).kind, Verdict::Kind::kContinue);
    auto v = run(client());
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_EQ(smtp::reply_line(v.reply),
              "421 4.7.0 Too many connections from your address lately, try again later "
              "(connections from 192.0.2.7: at most 2 per 1m)");
    EXPECT_EQ(run(client("192.0.2.8")).kind, Verdict::Kind::kContinue);
}

TEST(PolicyStage, MessageRates) {
    Fixture f;
    PolicyOptions o;
    o.client_messages = Rate{1, 60s};
    o.account_messages = Rate{2, 3600s};
    o.sender_domain_messages = Rate{3, 3600s};
    auto stage = f.stage(o);
    auto mail = [&](const SessionInfo& who, const std::string& domain) {
        return testing::run_until_done(stage.on_mail(who, mail_from("x", domain)));
    };
    EXPECT_EQ(mail(client(), "a.example").kind, Verdict::Kind::kContinue);
    auto v = mail(client(), "a.example");
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_EQ(smtp::reply_line(v.reply),
              "450 4.7.1 Rate limit exceeded, try again later (messages from 192.0.2.7: at most "
              "1 per 1m)");
    // An authenticated account is trusted: not the address limit, its own.
    auto user = client();
    user.trusted = true;
    user.auth_user = "alice";
    EXPECT_EQ(mail(user, "b.example").kind, Verdict::Kind::kContinue);
    EXPECT_EQ(mail(user, "b.example").kind, Verdict::Kind::kContinue);
    v = mail(user, "b.example");
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_NE(v.reply.text.find("messages from account alice"), std::string::npos);
    // The sender domain's limit counts across clients: a.example used 1 (the refused MAIL
    // took nothing), b.example 2.
    auto other = client("198.51.100.1");
    EXPECT_EQ(mail(other, "b.example").kind, Verdict::Kind::kContinue);
    v = mail(client("198.51.100.2"), "b.example");
    EXPECT_EQ(v.kind, Verdict::Kind::kDefer);
    EXPECT_NE(v.reply.text.find("sender domain b.example"), std::string::npos);
}

TEST(PolicyStage, RecipientRatePerAccount) {
    Fixture f;
    PolicyOptions o;
    o.account_recipients = Rate{2, 3600s};
    auto stage = f.stage(o);
    auto user = client();
    user.trusted = true;
    user.auth_user = "bob";
    EXPECT_EQ(rcpt(stage, user).kind, Verdict::Kind::kContinue);
    EXPECT_EQ(rcpt(stage, user).kind, Verdict::Kind::kContinue);
    EXPECT_EQ(rcpt(stage, user).kind, Verdict::Kind::kDefer);
    EXPECT_EQ(rcpt(stage, client()).kind, Verdict::Kind::kContinue);  // no account: no limit
}

}  // namespace
}  // namespace tern::policy

namespace tern::policy {
namespace {

// A sender whose SPF check passes is greylisted by its domain: a retry from another server of
// its pool (another network) is the same triplet. Without the SPF key it is a new one.
TEST(PolicyStage, GreylistKeyedOnTheSpfPassDomain) {
    for (bool by_spf : {true, false}) {
        Fixture f;
        PolicyOptions o;
        o.greylist = GreylistOptions{std::chrono::seconds(0), std::chrono::seconds(3600),
                                     std::chrono::seconds(86400), 0};
        o.greylist_by_spf = by_spf;
        std::vector<std::string> asked;
        o.spf_pass_domain = [&asked](
                                const SessionInfo& s,
                                const std::string& sender) -> boost::asio::awaitable<std::string> {
            asked.push_back(s.client_ip + " " + sender);
            co_return sender.ends_with("@example.org") ? std::string("Example.ORG") : std::string();
        };
        auto stage = f.stage(std::move(o));
        auto mail = mail_from("news", "example.org");
        auto first = tern::testing::run_until_done(
            stage.on_rcpt(client("192.0.2.7"), mail, rcpt_to("alice")));
        EXPECT_EQ(first.kind, Verdict::Kind::kDefer);
        auto retry = tern::testing::run_until_done(
            stage.on_rcpt(client("198.51.100.9"), mail, rcpt_to("alice")));
        EXPECT_EQ(retry.kind, by_spf ? Verdict::Kind::kContinue : Verdict::Kind::kDefer) << by_spf;
        // A sender SPF does not vouch for is greylisted by the client's network.
        auto other = mail_from("x", "example.net");
        EXPECT_EQ(tern::testing::run_until_done(
                      stage.on_rcpt(client("192.0.2.7"), other, rcpt_to("alice")))
                      .kind,
                  Verdict::Kind::kDefer);
        EXPECT_EQ(tern::testing::run_until_done(
                      stage.on_rcpt(client("198.51.100.9"), other, rcpt_to("alice")))
                      .kind,
                  Verdict::Kind::kDefer);
        EXPECT_EQ(asked.size(), by_spf ? 4u : 0u);
    }
}

}  // namespace
}  // namespace tern::policy
