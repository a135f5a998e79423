// Unit tests of the API key file: names and domains checked, keys stored only as digests, the
// file written durably with mode 0600 and read back, the store following changes to the file.
#include "auth/api_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test_files.h"

namespace tern::auth {
namespace {

TEST(ApiKeys, NamesAndDomains) {
    EXPECT_TRUE(valid_key_name("shop-1.prod_x"));
    EXPECT_FALSE(valid_key_name(""));
    EXPECT_FALSE(valid_key_name("has space"));
    EXPECT_FALSE(valid_key_name(std::string(65, 'a')));
    EXPECT_TRUE(valid_key_domain("example.org"));
    EXPECT_TRUE(valid_key_domain("*.example.org"));
    EXPECT_FALSE(valid_key_domain("*"));
    EXPECT_TRUE(valid_key_domain("localhost"));  // the embedded default's local domain
    EXPECT_FALSE(valid_key_domain("*.*.example.org"));
    EXPECT_FALSE(valid_key_domain("*.com"));  // every .com sender
    EXPECT_FALSE(valid_key_domain("exa mple.org"));
}

TEST(ApiKeys, AllowsExactDomainsAndListedSubdomains) {
    ApiKey key{"k", "", {"example.org", "*.news.example.net"}, 0};
    EXPECT_TRUE(key.allows("example.org"));
    EXPECT_TRUE(key.allows("EXAMPLE.ORG"));
    EXPECT_FALSE(key.allows("sub.example.org"));
    EXPECT_TRUE(key.allows("a.news.example.net"));
    EXPECT_FALSE(key.allows("news.example.net"));
    EXPECT_FALSE(key.allows("evilnews.example.net"));
    EXPECT_FALSE(key.allows("example.org.evil.com"));
    ApiKey any{"any", "", {}, 0};
    EXPECT_TRUE(any.allows("anything.example"));
}

TEST(ApiKeys, KeysAreRandomAndStoredAsDigests) {
    auto a = make_api_key();
    auto b = make_api_key();
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
    EXPECT_EQ(a->size(), 5u + 64u);
    EXPECT_TRUE(a->starts_with("tern_"));
    EXPECT_EQ(api_key_digest(*a).size(), 64u);
    EXPECT_EQ(api_key_digest("tern_x"), api_key_digest("tern_x"));
    EXPECT_NE(api_key_digest(*a), api_key_digest(*b));
}

TEST(ApiKeys, WriteThenReadBack) {
    testing::TempDir dir;
    std::string path = dir.path() + "/sub/api-keys";
    std::vector<ApiKey> keys{{"shop", api_key_digest("tern_a"), {"example.org"}, 1700000000},
                             {"any", api_key_digest("tern_b"), {}, 1700000001}};
    ASSERT_TRUE(write_api_keys(path, keys, std::nullopt));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::string text = testing::read_file(path);
    EXPECT_EQ(text.find("tern_a"), std::string::npos) << "the key itself must not be stored";
    auto back = read_api_keys(path);
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[0].name, "shop");
    EXPECT_EQ((*back)[0].domains, std::vector<std::string>{"example.org"});
    EXPECT_EQ((*back)[0].created, 1700000000);
    EXPECT_TRUE((*back)[1].domains.empty());
}

TEST(ApiKeys, MissingFileHasNoKeysAndBadLinesAreNamed) {
    testing::TempDir dir;
    auto none = read_api_keys(dir.path() + "/absent");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    std::string path = dir.path() + "/keys";
    for (const auto& [line, why] : std::vector<std::pair<std::string, std::string>>{
             {"a b c", "expected"},
             {"bad! " + std::string(64, 'a') + " 1 -", "name"},
             {"k xyz 1 -", "digest"},
             {"k " + std::string(64, 'a') + " soon -", "creation"},
             {"k " + std::string(64, 'a') + " 1 not..domain", "domain"}}) {
        std::ofstream(path) << "# comment\n" << line << "\n";
        auto r = read_api_keys(path);
        ASSERT_FALSE(r) << line;
        EXPECT_NE(r.error().message.find(":2:"), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    }
    std::ofstream(path) << "k " << std::string(64, 'a') << " 1 -\nk " << std::string(64, 'b')
                        << " 1 -\n";
    EXPECT_FALSE(read_api_keys(path));
}

TEST(ApiKeys, StoreFollowsTheFile) {
    testing::TempDir dir;
    std::string path = dir.path() + "/keys";
    ApiKeyStore store(path);
    EXPECT_FALSE(store.find("tern_a"));
    ASSERT_TRUE(write_api_keys(path, {{"one", api_key_digest("tern_a"), {}, 1}}, std::nullopt));
    auto found = store.find("tern_a");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "one");
    EXPECT_FALSE(store.find("tern_b"));
    EXPECT_FALSE(store.find("a"));
    // Replaced by rename: another inode, seen at the next lookup.
    ASSERT_TRUE(write_api_keys(path, {{"two", api_key_digest("tern_b"), {}, 1}}, std::nullopt));
    EXPECT_FALSE(store.find("tern_a"));
    ASSERT_TRUE(store.find("tern_b"));
    // A broken file: no key is valid (fails closed), and the store says why; mended, it is read.
    std::ofstream(path) << "garbage line here\n";
    EXPECT_FALSE(store.find("tern_b"));
    EXPECT_NE(store.error().find("expected"), std::string::npos);
    ASSERT_TRUE(write_api_keys(path, {{"two", api_key_digest("tern_b"), {}, 1}}, std::nullopt));
    EXPECT_TRUE(store.find("tern_b"));
    EXPECT_EQ(store.error(), "");
}

}  // namespace
}  // namespace tern::auth
