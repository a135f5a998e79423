// SigningKeys: keys made once for the signing domains (mode 0600, kept across starts), keys from
// dkim.keys, the parent-domain fallback, and key files refused at start-up.
#include "mailauth/stages/signing_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_files.h"

namespace tern::mailauth {
namespace {

using tern::testing::read_file;
using tern::testing::TempDir;

mode_t mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST(SigningKeys, MakesAnRsaAndAnEd25519KeyOnceForEachDomain) {
    TempDir dir;
    std::string keys_dir = dir.path() + "/dkim";
    SigningKeysSetup setup{{"Example.COM"}, {}, true, keys_dir};
    std::vector<GeneratedKey> made;
    auto keys = SigningKeys::load(setup, &made);
    ASSERT_TRUE(keys.has_value()) << keys.error().message;
    ASSERT_EQ(made.size(), 2u);
    EXPECT_EQ(made[0].record_name, "tern-rsa._domainkey.example.com");
    EXPECT_EQ(made[1].record_name, "tern-ed25519._domainkey.example.com");
    EXPECT_TRUE(made[0].record_value.starts_with("v=DKIM1; k=rsa; p=")) << made[0].record_value;
    EXPECT_TRUE(made[1].record_value.starts_with("v=DKIM1; k=ed25519; p=")) << made[1].record_value;
    EXPECT_EQ(mode_of(keys_dir), 0700u);
    EXPECT_EQ(mode_of(made[0].path), 0600u);
    EXPECT_EQ(mode_of(made[1].path), 0600u);
    const auto& signing = keys->for_domain("example.com");
    ASSERT_EQ(signing.size(), 2u);
    EXPECT_EQ(signing[0].selector, "tern-rsa");
    EXPECT_EQ(signing[0].key->bits(), 2048);
    EXPECT_EQ(signing[1].key->type(), KeyType::kEd25519);

    // The next start reads them: nothing new is made, the files are unchanged.
    std::string rsa_pem = read_file(made[0].path);
    std::vector<GeneratedKey> again;
    auto reread = SigningKeys::load(setup, &again);
    ASSERT_TRUE(reread.has_value()) << reread.error().message;
    EXPECT_TRUE(again.empty());
    EXPECT_EQ(read_file(made[0].path), rsa_pem);
    EXPECT_EQ(reread->for_domain("example.com")[0].key->public_key(), signing[0].key->public_key());
}

TEST(SigningKeys, ASubdomainSignsWithItsParentsKeys) {
    TempDir dir;
    auto keys = SigningKeys::load({{"example.com"}, {}, true, dir.path()});
    ASSERT_TRUE(keys.has_value()) << keys.error().message;
    EXPECT_EQ(keys->for_domain("news.Example.com").size(), 2u);
    EXPECT_EQ(keys->for_domain("news.example.com")[0].domain, "example.com");
    EXPECT_TRUE(keys->for_domain("example.net").empty());
    EXPECT_TRUE(keys->for_domain("com").empty());
    EXPECT_TRUE(keys->for_domain("").empty());
}

TEST(SigningKeys, ConfiguredKeysAndNoGeneration) {
    TempDir dir;
    std::string path = dir.path() + "/example.org.s1.key";
    auto key = PrivateKey::generate(KeyType::kEd25519);
    ASSERT_TRUE(write_new_file(path, key->to_pem()).has_value());
    auto keys = SigningKeys::load(
        {{"example.org", "example.net"}, {"example.org s1 " + path}, false, dir.path() + "/made"});
    ASSERT_TRUE(keys.has_value()) << keys.error().message;
    ASSERT_EQ(keys->for_domain("example.org").size(), 1u);
    EXPECT_EQ(keys->for_domain("example.org")[0].selector, "s1");
    EXPECT_TRUE(keys->for_domain("example.net").empty());  // generate_keys = false
    EXPECT_EQ(mode_of(dir.path() + "/made"), 0u);          // and no directory made
}

TEST(SigningKeys, UnusableKeyFilesStopStartUp) {
    TempDir dir;
    std::string garbage = dir.path() + "/garbage.key";
    ASSERT_TRUE(write_new_file(garbage, "not a key\n").has_value());
    std::string small = dir.path() + "/small.key";
    auto weak = PrivateKey::generate(KeyType::kRsa, 512);
    if (weak) {
        ASSERT_TRUE(write_new_file(small, weak->to_pem()).has_value());
        auto refused = SigningKeys::load({{}, {"example.org s " + small}, false, ""});
        ASSERT_FALSE(refused.has_value());
        EXPECT_NE(refused.error().message.find("1024"), std::string::npos)
            << refused.error().message;
    }
    for (const std::string& entry :
         {"example.org s " + garbage, "example.org s " + dir.path() + "/missing.key"}) {
        auto keys = SigningKeys::load({{}, {entry}, false, ""});
        ASSERT_FALSE(keys.has_value()) << entry;
        EXPECT_NE(keys.error().message.find("dkim.keys"), std::string::npos)
            << keys.error().message;
    }
}

TEST(SigningKeys, WriteNewFileNeverOverwrites) {
    TempDir dir;
    std::string path = dir.path() + "/k";
    ASSERT_TRUE(write_new_file(path, "first").has_value());
    auto second = write_new_file(path, "second");
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(read_file(path), "first");
}

}  // namespace
}  // namespace tern::mailauth
