// SealStage: which messages are forwarded (an alias of a local domain to a remote address, from
// an untrusted host), which key seals them, and the ARC set it prepends from the verification
// stage's results; no results, no seal; a body a milter replaced is the one sealed.
#include "mailauth/stages/seal_stage.h"

#include <gtest/gtest.h>

#include "mailauth/message_checks.h"
#include "test_async.h"
#include "test_files.h"

namespace tern::mailauth {
namespace {

using tern::testing::run_until_done;

using tern::testing::TempDir;

bool local(std::string_view domain) {
    return domain == "example.com" || domain == "lists.example.com";
}

spool::Recipient rcpt(std::string address, std::string original) {
    spool::Recipient r;
    r.address = std::move(address);
    r.original = std::move(original);
    return r;
}

TEST(SealStage, ForwardingDomainIsTheAliasDomainOfARemoteTarget) {
    spool::Message m;
    m.recipients = {rcpt("bob@example.com", "bob@example.com")};
    EXPECT_FALSE(forwarding_domain(m, local));  // delivered here
    m.recipients.push_back(rcpt("carol@elsewhere.net", "Fans@Lists.Example.COM"));
    EXPECT_EQ(forwarding_domain(m, local), "lists.example.com");
    m.recipients = {rcpt("dave@elsewhere.net", "dave@elsewhere.net")};
    EXPECT_FALSE(forwarding_domain(m, local));  // relayed, not forwarded
    m.recipients = {rcpt("erin@elsewhere.net", "postmaster")};
    EXPECT_FALSE(forwarding_domain(m, local));  // no domain to seal for
    EXPECT_FALSE(forwarding_domain(m, nullptr));
}

struct Fixture {
    TempDir dir;
    SealStage stage{*SigningKeys::load({{"example.com"}, {}, true, dir.path()}),
                    {"mx.example.com", local}};
};

const std::vector<std::string> kFields = {"From: ann@origin.example\r\n",
                                          "To: fans@example.com\r\n", "Subject: hello\r\n"};

// Feeds a message through a filter of `stage` and returns the header fields it ends with.
// `body`: the body as received; `replaced`: a body an earlier stage (a milter) put in its place.
std::vector<std::string> seal(SealStage& stage, const pipeline::SessionInfo& session,
                              const spool::Message& envelope, const CheckResults* results,
                              std::string_view body = "Hi all.\r\n",
                              std::optional<std::string_view> replaced = std::nullopt) {
    auto filter = stage.start_message(session, envelope);
    if (!filter) return {};
    for (const auto& f : kFields)
        filter->on_header(f);
    filter->on_end_of_headers();
    filter->on_body(body);
    if (replaced) filter->on_body_replaced(*replaced);
    pipeline::MessageView view(session, envelope, kFields, 9);
    if (results) view.facts()["mailauth"] = *results;
    auto verdict = run_until_done(filter->on_end(view));
    EXPECT_FALSE(verdict.final());
    return view.fields();
}

TEST(SealStage, SealsWithTheRsaKeyOfTheAliasDomain) {
    Fixture fx;
    auto key = fx.stage.key_for("lists.example.com");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->domain, "example.com");
    EXPECT_EQ(key->selector, "tern-rsa");
    EXPECT_FALSE(fx.stage.key_for("example.net"));

    pipeline::SessionInfo mx;
    spool::Message envelope;
    envelope.recipients = {rcpt("carol@elsewhere.net", "fans@lists.example.com")};
    CheckResults results;
    results.spf = SpfEvidence{AuthResult::kPass, "origin.example", SpfEvidence::Identity::kMailFrom,
                              "ann@origin.example", ""};
    results.arc = ArcResult{};
    auto fields = seal(fx.stage, mx, envelope, &results);
    ASSERT_EQ(fields.size(), kFields.size() + 3);
    EXPECT_TRUE(fields[0].starts_with("ARC-Seal: i=1; a=rsa-sha256; t=")) << fields[0];
    EXPECT_NE(fields[0].find("cv=none; d=example.com; s=tern-rsa;"), std::string::npos)
        << fields[0];
    EXPECT_TRUE(fields[1].starts_with("ARC-Message-Signature: i=1; a=rsa-sha256;")) << fields[1];
    EXPECT_TRUE(fields[2].starts_with("ARC-Authentication-Results: i=1; mx.example.com;"))
        << fields[2];
    EXPECT_NE(fields[2].find("spf=pass"), std::string::npos) << fields[2];
    EXPECT_NE(fields[2].find("smtp.mailfrom=ann@origin.example"), std::string::npos) << fields[2];
    EXPECT_EQ(fields[3], kFields[0]);

    // A trusted client's mail is not forwarded for others; without the verification stage's
    // ARC result the chain status is unknown: no seal either way.
    pipeline::SessionInfo trusted;
    trusted.trusted = true;
    EXPECT_TRUE(seal(fx.stage, trusted, envelope, &results).empty());
    EXPECT_EQ(seal(fx.stage, mx, envelope, nullptr), kFields);
    CheckResults no_arc = results;
    no_arc.arc.reset();
    EXPECT_EQ(seal(fx.stage, mx, envelope, &no_arc), kFields);
}

// The bh= of a field.
std::string body_hash(const std::string& field) {
    auto at = field.find(" bh=");
    if (at == std::string::npos) return {};
    return field.substr(at + 4, field.find(';', at) - at - 4);
}

TEST(SealStage, AReplacedBodyIsTheOneSealed) {
    Fixture fx;
    pipeline::SessionInfo mx;
    spool::Message envelope;
    envelope.recipients = {rcpt("carol@elsewhere.net", "fans@lists.example.com")};
    CheckResults results;
    results.arc = ArcResult{};
    auto replaced = seal(fx.stage, mx, envelope, &results, "Hi all.\r\n", "A new body.\r\n");
    auto direct = seal(fx.stage, mx, envelope, &results, "A new body.\r\n");
    auto original = seal(fx.stage, mx, envelope, &results);
    ASSERT_TRUE(replaced.size() > 1 && direct.size() > 1 && original.size() > 1);
    EXPECT_FALSE(body_hash(replaced[1]).empty()) << replaced[1];
    EXPECT_EQ(body_hash(replaced[1]), body_hash(direct[1]));
    EXPECT_NE(body_hash(replaced[1]), body_hash(original[1]));
}

}  // namespace
}  // namespace tern::mailauth
