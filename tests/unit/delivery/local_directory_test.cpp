// Unit tests of LocalDirectory: the aliases file format with its line-numbered errors, and the
// resolution of local parts (users, postmaster, +tag, case, aliases, loops) into mailboxes.
#include "delivery/local_directory.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tern::delivery {
namespace {

class LocalDirectoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "tern-aliases-XXXXXX");
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        aliases_ = dir_ + "/aliases";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    LocalDirectoryOptions options(std::string_view aliases_text) {
        std::ofstream(aliases_, std::ios::binary) << aliases_text;
        LocalDirectoryOptions opts;
        opts.domains = {"localhost", "Example.COM"};
        opts.users = {"alice", "Bob", "carol", "dave"};
        opts.aliases_file = aliases_;
        return opts;
    }

    LocalDirectory load(std::string_view aliases_text) {
        auto directory = LocalDirectory::load(options(aliases_text));
        EXPECT_TRUE(directory) << directory.error().message;
        return directory ? std::move(*directory) : LocalDirectory{};
    }

    // The message of the error that loading `aliases_text` must fail with.
    std::string load_error(std::string_view aliases_text) {
        auto directory = LocalDirectory::load(options(aliases_text));
        if (directory) return "(loaded)";
        EXPECT_EQ(directory.error().code, ErrorCode::kInvalid);
        return directory.error().message;
    }

    std::string dir_;
    std::string aliases_;
};

using Names = std::vector<std::string>;

Names mailboxes(const LocalDirectory& directory, std::string_view local) {
    auto r = directory.resolve(local);
    EXPECT_TRUE(r) << local;
    return r ? r->mailboxes : Names{"(failed)"};
}

ResolveError resolve_error(const LocalDirectory& directory, std::string_view local) {
    auto r = directory.resolve(local);
    EXPECT_FALSE(r) << local;
    return r ? ResolveError{} : r.error();
}

TEST_F(LocalDirectoryTest, NoAliasesFile) {
    LocalDirectoryOptions opts;
    opts.domains = {"localhost"};
    opts.users = {"alice"};
    auto directory = LocalDirectory::load(opts);
    ASSERT_TRUE(directory);
    EXPECT_EQ(mailboxes(*directory, "alice"), Names{"alice"});
}

TEST_F(LocalDirectoryTest, MissingAliasesFileIsNotFound) {
    LocalDirectoryOptions opts;
    opts.aliases_file = dir_ + "/no-such-file";
    auto directory = LocalDirectory::load(opts);
    ASSERT_FALSE(directory);
    EXPECT_EQ(directory.error().code, ErrorCode::kNotFound);
    EXPECT_NE(directory.error().message.find(dir_ + "/no-such-file"), std::string::npos)
        << directory.error().message;
}

TEST_F(LocalDirectoryTest, LocalDomainsIgnoreCase) {
    auto directory = load("");
    EXPECT_TRUE(directory.is_local_domain("localhost"));
    EXPECT_TRUE(directory.is_local_domain("LocalHost"));
    EXPECT_TRUE(directory.is_local_domain("example.com"));
    EXPECT_FALSE(directory.is_local_domain("example.org"));
    EXPECT_FALSE(directory.is_local_domain("[127.0.0.1]"));
    EXPECT_FALSE(directory.is_local_domain(""));
}

TEST_F(LocalDirectoryTest, ContinuationLinesExtendTheTargetList) {
    auto directory = load(
        "# system aliases\n"
        "\n"
        "staff: alice,\n"
        "\tbob,\r\n"
        "   # a comment inside an entry\n"
        "    carol\n"
        "team:\n"
        "  dave\n"
        "Root : Alice\n");
    EXPECT_EQ(mailboxes(directory, "staff"), (Names{"alice", "bob", "carol"}));
    EXPECT_EQ(mailboxes(directory, "team"), Names{"dave"});
    EXPECT_EQ(mailboxes(directory, "root"), Names{"alice"});
}

TEST_F(LocalDirectoryTest, LineErrorsNameFileAndLine) {
    const std::string f = aliases_;
    EXPECT_EQ(load_error("a: alice\nno colon here\n"), f + ":2: missing ':'");
    EXPECT_EQ(load_error(": alice\n"), f + ":1: empty alias name");
    EXPECT_EQ(load_error("  : alice\n"), f + ":1: continuation line without an alias");
    EXPECT_EQ(load_error("a b: alice\n"), f + ":1: invalid alias name \"a b\"");
    EXPECT_EQ(load_error("a: alice,,bob\n"), f + ":1: empty target");
    EXPECT_EQ(load_error("a: ,alice\n"), f + ":1: empty target");
    EXPECT_EQ(load_error("a: alice,\n\nb: bob\n"), f + ":1: empty target");
    EXPECT_EQ(load_error("a: alice,\n"), f + ":1: empty target");
    EXPECT_EQ(load_error("a: alice\n  , bob\n"), f + ":2: empty target");
    EXPECT_EQ(load_error("# x\na:\nb: bob\n"), f + ":2: alias \"a\" has no targets");
    EXPECT_EQ(load_error("a: alice\n\nA: bob\n"),
              f + ":3: duplicate alias \"a\" (first at line 1)");
    EXPECT_EQ(load_error("a: alice\nb: bob@\n"), f + ":2: invalid target \"bob@\"");
    EXPECT_EQ(load_error("a: @example.org\n"), f + ":1: invalid target \"@example.org\"");
    EXPECT_EQ(load_error("a: bob@exa mple.org\n"), f + ":1: invalid target \"bob@exa mple.org\"");
    EXPECT_EQ(load_error("a: bob\n  carol dave\n"), f + ":2: invalid target \"carol dave\"");
    EXPECT_EQ(load_error("a: |/usr/bin/vacation\n"),
              f + ":1: invalid target \"|/usr/bin/vacation\"");
    EXPECT_EQ(load_error("a: /var/mail/a\n"), f + ":1: invalid target \"/var/mail/a\"");
    EXPECT_EQ(load_error("a: :include:/etc/list\n"),
              f + ":1: invalid target \":include:/etc/list\"");
}

TEST_F(LocalDirectoryTest, Users) {
    auto directory = load("");
    EXPECT_EQ(mailboxes(directory, "alice"), Names{"alice"});
    EXPECT_EQ(mailboxes(directory, "bob"), Names{"bob"});  // configured as "Bob"
    EXPECT_EQ(resolve_error(directory, "mallory"), ResolveError::kUnknownUser);
    EXPECT_EQ(resolve_error(directory, ""), ResolveError::kUnknownUser);
    EXPECT_TRUE(directory.resolve("alice")->remote.empty());
}

TEST_F(LocalDirectoryTest, CaseIsIgnored) {
    auto directory = load("Staff: ALICE, Bob\n");
    EXPECT_EQ(mailboxes(directory, "ALICE"), Names{"alice"});
    EXPECT_EQ(mailboxes(directory, "BoB"), Names{"bob"});
    EXPECT_EQ(mailboxes(directory, "sTaFf"), (Names{"alice", "bob"}));
}

TEST_F(LocalDirectoryTest, AccountStoreUsers) {
    auto opts = options("");
    opts.account_exists = [](std::string_view user) { return user == "erin"; };
    auto directory = LocalDirectory::load(opts);
    ASSERT_TRUE(directory);
    EXPECT_EQ(mailboxes(*directory, "Erin"), Names{"erin"});
    EXPECT_EQ(mailboxes(*directory, "erin+x"), Names{"erin"});
    EXPECT_EQ(resolve_error(*directory, "frank"), ResolveError::kUnknownUser);
}

TEST_F(LocalDirectoryTest, PostmasterAlwaysResolves) {
    auto directory = load("");
    EXPECT_EQ(mailboxes(directory, "postmaster"), Names{"postmaster"});
    EXPECT_EQ(mailboxes(directory, "PostMaster"), Names{"postmaster"});
    EXPECT_EQ(mailboxes(directory, "postmaster+dmarc"), Names{"postmaster"});

    auto aliased = load("postmaster: alice, carol\n");
    EXPECT_EQ(mailboxes(aliased, "Postmaster"), (Names{"alice", "carol"}));
}

TEST_F(LocalDirectoryTest, RecipientDelimiter) {
    auto directory = load("lists: carol\nlists+announce: dave\n");
    EXPECT_EQ(mailboxes(directory, "alice+tag"), Names{"alice"});
    EXPECT_EQ(mailboxes(directory, "Alice+Tag+More"), Names{"alice"});
    EXPECT_EQ(mailboxes(directory, "lists+other"), Names{"carol"});
    // An alias for the full name wins over the one for the name without the extension.
    EXPECT_EQ(mailboxes(directory, "lists+announce"), Names{"dave"});
    // Nothing before the delimiter: the name is looked up as it is.
    EXPECT_EQ(resolve_error(directory, "+alice"), ResolveError::kUnknownUser);
    EXPECT_EQ(resolve_error(directory, "mallory+alice"), ResolveError::kUnknownUser);

    auto opts = options("");
    opts.recipient_delimiter = "";
    auto off = LocalDirectory::load(opts);
    ASSERT_TRUE(off);
    EXPECT_EQ(resolve_error(*off, "alice+tag"), ResolveError::kUnknownUser);

    opts.recipient_delimiter = "--";
    auto dashes = LocalDirectory::load(opts);
    ASSERT_TRUE(dashes);
    EXPECT_EQ(mailboxes(*dashes, "alice--tag"), Names{"alice"});
    EXPECT_EQ(resolve_error(*dashes, "alice+tag"), ResolveError::kUnknownUser);
}

TEST_F(LocalDirectoryTest, AliasToSeveralLocalUsers) {
    auto directory = load("staff: alice, bob@localhost, Carol@EXAMPLE.com, alice, bob+x\n");
    auto r = directory.resolve("staff");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->mailboxes, (Names{"alice", "bob", "carol"}));
    EXPECT_TRUE(r->remote.empty());
}

TEST_F(LocalDirectoryTest, AliasToRemoteAddresses) {
    auto directory = load(
        "forward: Someone@Example.ORG, alice, someone@example.org, Someone@example.org,\n"
        "  \"john doe\"@example.net\n");
    auto r = directory.resolve("forward");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->mailboxes, Names{"alice"});
    EXPECT_EQ(r->remote,
              (Names{"Someone@example.org", "someone@example.org", "\"john doe\"@example.net"}));
}

TEST_F(LocalDirectoryTest, NestedAliases) {
    auto directory = load(
        "all: staff, sales, outside\n"
        "staff: alice, team\n"
        "team: bob, carol\n"
        "sales: carol, dave@localhost\n"
        "outside: partner@example.org\n");
    auto r = directory.resolve("all");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->mailboxes, (Names{"alice", "bob", "carol", "dave"}));
    EXPECT_EQ(r->remote, Names{"partner@example.org"});
}

TEST_F(LocalDirectoryTest, AnAliasMayShadowAUser) {
    auto directory = load("bob: carol\n");
    EXPECT_EQ(mailboxes(directory, "bob"), Names{"carol"});
}

TEST_F(LocalDirectoryTest, SelfReferenceMeansTheMailbox) {
    auto directory = load(
        "alice: alice, bob\n"
        "carol: carol@localhost, archive@example.org\n"
        "dave: dave+copy\n"
        "staff: alice, carol\n"
        "ghost: ghost, bob\n");
    EXPECT_EQ(mailboxes(directory, "alice"), (Names{"alice", "bob"}));
    EXPECT_EQ(mailboxes(directory, "carol"), Names{"carol"});
    EXPECT_EQ(mailboxes(directory, "dave"), Names{"dave"});
    EXPECT_EQ(mailboxes(directory, "staff"), (Names{"alice", "bob", "carol"}));
    // A self-reference names a mailbox, so the name must be a user.
    EXPECT_EQ(resolve_error(directory, "ghost"), ResolveError::kUnknownUser);
}

TEST_F(LocalDirectoryTest, Loops) {
    auto directory = load(
        "a: b\n"
        "b: a\n"
        "x: y, alice\n"
        "y: z\n"
        "z: x\n"
        "p: alice, p2\n"
        "p2: p@localhost\n");
    EXPECT_EQ(resolve_error(directory, "a"), ResolveError::kAliasLoop);
    EXPECT_EQ(resolve_error(directory, "b"), ResolveError::kAliasLoop);
    EXPECT_EQ(resolve_error(directory, "x"), ResolveError::kAliasLoop);
    EXPECT_EQ(resolve_error(directory, "z"), ResolveError::kAliasLoop);
    EXPECT_EQ(resolve_error(directory, "p"), ResolveError::kAliasLoop);
}

TEST_F(LocalDirectoryTest, SharedSubListIsNotALoop) {
    auto directory = load(
        "all: left, right\n"
        "left: common\n"
        "right: common, dave\n"
        "common: alice, bob\n");
    EXPECT_EQ(mailboxes(directory, "all"), (Names{"alice", "bob", "dave"}));
}

TEST_F(LocalDirectoryTest, UnknownTargetFailsTheWholeAlias) {
    auto directory = load(
        "staff: alice, mallory\n"
        "outer: bob, staff\n"
        "remote: nobody@localhost, x@example.org\n");
    EXPECT_EQ(resolve_error(directory, "staff"), ResolveError::kUnknownUser);
    EXPECT_EQ(resolve_error(directory, "outer"), ResolveError::kUnknownUser);
    EXPECT_EQ(resolve_error(directory, "remote"), ResolveError::kUnknownUser);
}

TEST_F(LocalDirectoryTest, DepthIsBounded) {
    // A chain of 20 aliases expands; a chain of 21 is treated as a loop.
    std::string text;
    for (int i = 1; i <= 21; ++i) {
        text += "l" + std::to_string(i) + ": " + (i == 21 ? "alice" : "l" + std::to_string(i + 1));
        text += "\n";
    }
    auto directory = load(text);
    EXPECT_EQ(mailboxes(directory, "l2"), Names{"alice"});
    EXPECT_EQ(resolve_error(directory, "l1"), ResolveError::kAliasLoop);
}

TEST_F(LocalDirectoryTest, ResultCountIsBounded) {
    std::string thousand = "big: ";
    for (int i = 0; i < 1000; ++i)
        thousand += (i ? ", r" : "r") + std::to_string(i) + "@example.org";
    auto directory = load(thousand + "\nbigger: big, alice\n");
    auto r = directory.resolve("big");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->remote.size(), 1000u);
    EXPECT_EQ(resolve_error(directory, "bigger"), ResolveError::kAliasLoop);
}

TEST_F(LocalDirectoryTest, ReloadReplacesUsersDomainsAndAliasesOrKeepsThemOnError) {
    LocalDirectory directory = load("team: alice\n");
    EXPECT_EQ(mailboxes(directory, "team"), Names{"alice"});
    EXPECT_EQ(resolve_error(directory, "erin"), ResolveError::kUnknownUser);
    EXPECT_FALSE(directory.is_local_domain("example.net"));

    LocalDirectoryOptions next = options("team: alice, erin\nsales: erin\n");
    next.users.push_back("Erin");
    next.domains.push_back("example.net");
    ASSERT_TRUE(directory.reload(next));
    EXPECT_EQ(mailboxes(directory, "team"), (Names{"alice", "erin"}));
    EXPECT_EQ(mailboxes(directory, "sales"), Names{"erin"});
    EXPECT_EQ(mailboxes(directory, "erin"), Names{"erin"});
    EXPECT_TRUE(directory.is_local_domain("Example.NET"));
    auto n = directory.counts();
    EXPECT_EQ(n.domains, 3u);
    EXPECT_EQ(n.users, 5u);
    EXPECT_EQ(n.aliases, 2u);

    // A broken file is refused with its line, and everything in use stays.
    auto refused = directory.reload(options("team: alice\nthis line has no colon\n"));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("aliases:2"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(mailboxes(directory, "sales"), Names{"erin"});
    EXPECT_TRUE(directory.is_local_domain("example.net"));
}

TEST_F(LocalDirectoryTest, ReloadKeepsTheAccountLookup) {
    LocalDirectoryOptions first = options("");
    first.account_exists = [](std::string_view user) { return user == "zoe"; };
    auto directory = LocalDirectory::load(first);
    ASSERT_TRUE(directory);
    EXPECT_EQ(mailboxes(*directory, "zoe"), Names{"zoe"});
    ASSERT_TRUE(directory->reload(options("")));
    EXPECT_EQ(mailboxes(*directory, "zoe"), Names{"zoe"});
}

}  // namespace
}  // namespace tern::delivery
