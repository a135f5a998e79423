// The public suffix list's algorithm (normal, wildcard and exception rules, Unicode rules) and
// RFC 7489's Organizational Domain; Debian's list when it is installed.
#include "mailauth/public_suffix_list.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace tern::mailauth {
namespace {

constexpr std::string_view kList =
    "// comment line\n"
    "com\n"
    "uk\n"
    "co.uk\n"
    "*.ck\n"
    "!www.ck\n"
    "公司.cn\n"
    "cn\n"
    "\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "blogspot.com  trailing text is not part of the rule\n";

TEST(PublicSuffixList, RulesWildcardsAndExceptions) {
    auto psl = PublicSuffixList::parse(kList);
    EXPECT_EQ(psl.size(), 8u);
    EXPECT_EQ(psl.public_suffix("www.example.com"), "com");
    EXPECT_EQ(psl.public_suffix("a.b.example.co.uk"), "co.uk");
    EXPECT_EQ(psl.public_suffix("shop.foo.ck"), "foo.ck");  // *.ck
    EXPECT_EQ(psl.public_suffix("www.ck"), "ck");           // !www.ck
    EXPECT_EQ(psl.public_suffix("a.www.ck"), "ck");
    EXPECT_EQ(psl.public_suffix("x.example.unlisted"), "unlisted");  // the implicit "*"
    EXPECT_EQ(psl.public_suffix("me.blogspot.com"), "blogspot.com");
    EXPECT_EQ(psl.public_suffix("shop.xn--55qx5d.cn"), "xn--55qx5d.cn");  // 公司.cn
}

TEST(PublicSuffixList, OrganizationalDomainIsOneLabelBelowTheSuffix) {
    auto psl = PublicSuffixList::parse(kList);
    EXPECT_EQ(psl.organizational_domain("mail.example.com"), "example.com");
    EXPECT_EQ(psl.organizational_domain("example.com"), "example.com");
    EXPECT_EQ(psl.organizational_domain("a.b.example.co.uk"), "example.co.uk");
    EXPECT_EQ(psl.organizational_domain("a.shop.foo.ck"), "shop.foo.ck");
    EXPECT_EQ(psl.organizational_domain("co.uk"), "co.uk");  // a suffix is its own
    EXPECT_EQ(psl.organizational_domain("com"), "com");
}

TEST(PublicSuffixList, MissingFileIsNotFound) {
    auto psl = PublicSuffixList::load("/nonexistent/public_suffix_list.dat");
    ASSERT_FALSE(psl);
    EXPECT_EQ(psl.error().code, ErrorCode::kNotFound);
}

TEST(PublicSuffixList, DebiansList) {
    std::string path(kDefaultPublicSuffixFile);
    if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not installed";
    auto psl = PublicSuffixList::load(path);
    ASSERT_TRUE(psl);
    EXPECT_GT(psl->size(), 5000u);
    EXPECT_EQ(psl->organizational_domain("a.b.example.co.uk"), "example.co.uk");
    EXPECT_EQ(psl->organizational_domain("mail.example.com"), "example.com");
    EXPECT_EQ(psl->organizational_domain("www.city.kawasaki.jp"), "city.kawasaki.jp");
}

}  // namespace
}  // namespace tern::mailauth
