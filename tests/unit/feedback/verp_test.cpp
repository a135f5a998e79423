// VerpCodec and FeedbackInbox: addresses made and read back, the tag under each secret, case
// changes on the way, forged and malformed addresses, what cannot be carried.
#include "feedback/verp.h"

#include <gtest/gtest.h>

#include "feedback/inbox.h"

namespace tern::feedback {
namespace {

VerpCodec codec(std::vector<std::string> secrets = {"first secret 0123456789"}) {
    return VerpCodec({"Bounces.Example.COM", std::move(secrets), "b"});
}

TEST(Verp, RoundTrip) {
    auto c = codec();
    auto a = c.encode("CRDZ0WA4HJ0A9RAP", "Jane.Doe+news@Example.net");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->starts_with("b-crdz0wa4hj0a9rap-")) << *a;
    EXPECT_TRUE(a->ends_with("-jane.doe+news=example.net@bounces.example.com")) << *a;
    auto t = c.decode(*a);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->id, "CRDZ0WA4HJ0A9RAP");
    EXPECT_EQ(t->recipient, "jane.doe+news@example.net");
    // Mail systems may change case anywhere: the address still holds.
    std::string upper = *a;
    for (auto& ch : upper)
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
    ASSERT_TRUE(c.decode(upper));
    EXPECT_EQ(c.decode(upper)->recipient, "jane.doe+news@example.net");
}

TEST(Verp, LocalPartsWithDashesAndEquals) {
    auto c = codec();
    for (const char* r : {"a-b-c@example.org", "x=y@example.org", "a=b=c-d@sub.example.org",
                          "o'brien@example.org"}) {
        auto a = c.encode("ABC123", r);
        ASSERT_TRUE(a) << r;
        auto t = c.decode(*a);
        ASSERT_TRUE(t) << *a;
        EXPECT_EQ(t->recipient, r);
        EXPECT_EQ(t->id, "ABC123");
    }
}

TEST(Verp, ForgedOrChangedAddressesFail) {
    auto c = codec();
    auto a = *c.encode("ABC123", "bob@example.org");
    // Another recipient, another message, another tag, another domain.
    std::string other = a;
    other.replace(other.find("bob="), 4, "eve=");
    EXPECT_FALSE(c.decode(other));
    std::string id = a;
    id.replace(id.find("abc123"), 6, "abc124");
    EXPECT_FALSE(c.decode(id));
    std::string tag = a;
    tag[9] = tag[9] == '0' ? '1' : '0';
    EXPECT_FALSE(c.decode(tag));
    EXPECT_FALSE(c.decode(a.substr(0, a.find('@')) + "@bounces.example.org"));
    // Malformed ones.
    for (const char* bad :
         {"b@bounces.example.com", "b-abc123@bounces.example.com",
          "b-abc123-012345678@bounces.example.com", "b-abc123-012345678g@bounces.example.com",
          "b-abc123-0123456789-bob@bounces.example.com",
          "x-abc123-0123456789-bob=example.org@bounces.example.com", "@bounces.example.com",
          "b--0123456789-bob=example.org@bounces.example.com", "no-at-sign"})
        EXPECT_FALSE(c.decode(bad)) << bad;
}

TEST(Verp, SecretsRotate) {
    auto old_codec = codec({"the old secret 0123456789"});
    auto a = *old_codec.encode("ABC123", "bob@example.org");
    auto rotated = codec({"the new secret 0123456789", "the old secret 0123456789"});
    EXPECT_TRUE(rotated.decode(a));
    auto retired = codec({"the new secret 0123456789"});
    EXPECT_FALSE(retired.decode(a));
    // New addresses are signed with the first secret.
    EXPECT_NE(*rotated.encode("ABC123", "bob@example.org"), a);
}

TEST(Verp, CompactWhenTheFullFormIsTooLong) {
    auto c = codec();
    std::string longest = std::string(64 - 30 - 12, 'x') + "@example.net";  // 30 + 34 = 64
    auto full = c.encode("CRDZ0WA4HJ0A9RAP", longest);
    ASSERT_TRUE(full);
    EXPECT_EQ(full->find('@'), 64u) << *full;
    std::string longer = "firstname.lastname@company-example.com";
    EXPECT_FALSE(c.encode("CRDZ0WA4HJ0A9RAP", longer));  // no sent index: none
    auto compact = c.encode("CRDZ0WA4HJ0A9RAP", longer, true);
    ASSERT_TRUE(compact);
    EXPECT_LE(compact->find('@'), 64u);
    auto t = c.decode(*compact);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->id, "CRDZ0WA4HJ0A9RAP");
    EXPECT_EQ(t->recipient, "");
    EXPECT_TRUE(c.holds(*t, "FirstName.LastName@Company-Example.com"));
    EXPECT_FALSE(c.holds(*t, "someone.else@company-example.com"));
    // The full form's tag is the same: a compact address never names another recipient.
    EXPECT_TRUE(compact->starts_with(full->substr(0, 2)));
}

TEST(Verp, WhatCannotBeCarried) {
    auto c = codec();
    EXPECT_FALSE(c.encode("ABC123", "\"john smith\"@example.org"));
    EXPECT_FALSE(c.encode("ABC123", "j\xc3\xb6rg@example.org"));
    EXPECT_FALSE(c.encode("ABC123", "bob"));
    EXPECT_FALSE(c.encode("ABC-123", "bob@example.org"));
    EXPECT_FALSE(VerpCodec({"", {"secret 0123456789abc"}, "b"}).encode("A1", "bob@example.org"));
    EXPECT_FALSE(VerpCodec({"b.example", {}, "b"}).encode("A1", "bob@example.org"));
}

TEST(FeedbackInbox, AcceptsOnlyItsAddresses) {
    auto c = codec();
    FeedbackInbox inbox(c, {"FBL@Example.com"});
    auto a = *c.encode("ABC123", "bob@example.org");
    EXPECT_TRUE(inbox.accepts(a));
    EXPECT_TRUE(inbox.accepts("fbl@example.COM"));
    // Postmaster goes to the local postmaster (RecipientPolicy), not to the report reader.
    EXPECT_FALSE(inbox.accepts("postmaster@bounces.example.com"));
    // A compact address is taken on its form: its recipient is checked when it is read.
    EXPECT_TRUE(inbox.accepts("b-crdz0wa4hj0a9rap-0123456789@bounces.example.com"));
    EXPECT_FALSE(inbox.accepts("b-abc123-0123456789@bounces.example.com"));  // no queue id
    EXPECT_FALSE(inbox.accepts("b-crdz0wa4hj0a9rau-0123456789@bounces.example.com"));
    EXPECT_FALSE(inbox.accepts("someone@bounces.example.com"));
    EXPECT_FALSE(inbox.accepts("fbl@example.org"));
    EXPECT_TRUE(inbox.is_bounce_domain("BOUNCES.example.com"));
    EXPECT_FALSE(inbox.is_bounce_domain("example.com"));
    VerpCodec off({"", {}, "b"});
    FeedbackInbox none(off, {});
    EXPECT_FALSE(none.enabled());
    EXPECT_FALSE(none.accepts("postmaster@bounces.example.com"));
}

}  // namespace
}  // namespace tern::feedback
