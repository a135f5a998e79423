// Unit tests of AccountStore against a real SQLite file in a temporary directory: add, passwd,
// del, list, lookups, the file's mode, that no password is stored in clear, and that
// connections see each other's changes and keep their locks.
#include "auth/account_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "auth/crypto.h"
#include "temp_store.h"

namespace tern::auth {
namespace {

using testing::another_process_sees_shared_lock;
using testing::create_and_open;
using testing::kCheapHashing;

class AccountStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(tmp_.path().empty());
        dir_ = tmp_.path();
        path_ = dir_ + "/sub/dir/accounts.sqlite";
        store_ = open();
    }
    std::unique_ptr<AccountStore> open() {
        auto s = create_and_open(path_);
        EXPECT_TRUE(s) << s.error().message;
        return s ? std::move(*s) : nullptr;
    }
    std::string file_bytes() {
        std::string all;
        for (const char* suffix : {"", "-wal"}) {
            std::ifstream in(path_ + suffix, std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            all += s.str();
        }
        return all;
    }

    testing::TempDir tmp_;
    std::string dir_;
    std::string path_;
    std::unique_ptr<AccountStore> store_;
};

TEST_F(AccountStoreTest, CreatesThePrivateFileAndItsDirectory) {
    struct stat st {};
    ASSERT_EQ(stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto list = store_->list();
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->empty());
}

TEST_F(AccountStoreTest, AddListAndLookups) {
    ASSERT_TRUE(store_->add("Alice@Example.org", "correct horse"));
    ASSERT_TRUE(store_->add("bob@example.org", "battery staple"));
    auto list = store_->list();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].address, "alice@example.org");
    EXPECT_EQ((*list)[1].address, "bob@example.org");
    EXPECT_GT((*list)[0].created, 1600000000);
    EXPECT_EQ((*list)[0].created, (*list)[0].password_changed);
    EXPECT_EQ((*list)[0].scram_iterations, 4096u);

    EXPECT_EQ(store_->exists("ALICE@example.ORG"), true);
    EXPECT_EQ(store_->exists("carol@example.org"), false);
    EXPECT_EQ(store_->exists("a\x01"), false);
    EXPECT_EQ(store_->verify_password("alice@example.org", "correct horse"), true);
    EXPECT_EQ(store_->verify_password("alice@example.org", "Correct horse"), false);
    EXPECT_EQ(store_->verify_password("carol@example.org", "correct horse"), false);

    auto keys = store_->scram_keys("alice@example.org");
    ASSERT_TRUE(keys && *keys);
    auto expected = derive_scram_keys("correct horse", (*keys)->salt, 4096);
    EXPECT_EQ((*keys)->stored_key, expected.stored_key);
    EXPECT_EQ((*keys)->server_key, expected.server_key);
    EXPECT_EQ((*keys)->salt.size(), 16u);
    auto none = store_->scram_keys("carol@example.org");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(AccountStoreTest, DuplicateAndInvalidAdds) {
    ASSERT_TRUE(store_->add("alice@example.org", "pencil"));
    auto dup = store_->add("ALICE@example.org", "other");
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, ErrorCode::kExists);
    EXPECT_EQ(store_->verify_password("alice@example.org", "pencil"), true);

    auto bad = store_->add("alice", "pencil");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
    auto empty = store_->add("carol@example.org", "");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, ErrorCode::kInvalid);
    EXPECT_EQ(store_->exists("carol@example.org"), false);
}

TEST_F(AccountStoreTest, SetPasswordReplacesBothSecrets) {
    ASSERT_TRUE(store_->add("alice@example.org", "pencil"));
    auto before = **store_->scram_keys("alice@example.org");
    ASSERT_TRUE(store_->set_password("Alice@example.org", "crayon"));
    EXPECT_EQ(store_->verify_password("alice@example.org", "pencil"), false);
    EXPECT_EQ(store_->verify_password("alice@example.org", "crayon"), true);
    auto after = **store_->scram_keys("alice@example.org");
    EXPECT_NE(after.salt, before.salt);
    EXPECT_EQ(after.stored_key, derive_scram_keys("crayon", after.salt, 4096).stored_key);

    auto missing = store_->set_password("carol@example.org", "crayon");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(AccountStoreTest, Remove) {
    ASSERT_TRUE(store_->add("alice@example.org", "pencil"));
    ASSERT_TRUE(store_->remove("ALICE@example.org"));
    EXPECT_EQ(store_->exists("alice@example.org"), false);
    auto again = store_->remove("alice@example.org");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(AccountStoreTest, SurvivesReopenAndSharesWithASecondConnection) {
    ASSERT_TRUE(store_->add("alice@example.org", "pencil"));
    auto second = open();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->verify_password("alice@example.org", "pencil"), true);
    ASSERT_TRUE(second->add("bob@example.org", "crayon"));
    EXPECT_EQ(store_->exists("bob@example.org"), true);
    store_.reset();
    store_ = open();
    EXPECT_EQ(store_->list()->size(), 2u);
}

TEST_F(AccountStoreTest, EachLookupSeesWhatAnotherConnectionCommittedBeforeIt) {
    // The daemon's connection stays open between logins while `tern user` changes accounts:
    // no lookup may leave a read transaction behind that pins an old snapshot.
    auto cli = open();
    ASSERT_TRUE(cli);
    EXPECT_EQ(store_->exists("alice@example.org"), false);
    EXPECT_EQ(store_->verify_password("alice@example.org", "pencil"), false);
    ASSERT_TRUE(cli->add("alice@example.org", "pencil"));
    EXPECT_EQ(store_->exists("alice@example.org"), true);
    EXPECT_EQ(store_->verify_password("alice@example.org", "pencil"), true);
    ASSERT_TRUE(cli->set_password("alice@example.org", "crayon"));
    EXPECT_EQ(store_->verify_password("alice@example.org", "pencil"), false);
    EXPECT_EQ(store_->verify_password("alice@example.org", "crayon"), true);
    auto keys = store_->scram_keys("alice@example.org");
    ASSERT_TRUE(keys && *keys);
    EXPECT_EQ((*keys)->stored_key, derive_scram_keys("crayon", (*keys)->salt, 4096).stored_key);
    ASSERT_TRUE(cli->remove("alice@example.org"));
    EXPECT_EQ(store_->exists("alice@example.org"), false);
    EXPECT_EQ(store_->verify_password("alice@example.org", "crayon"), false);
    auto gone = store_->scram_keys("alice@example.org");
    ASSERT_TRUE(gone);
    EXPECT_FALSE(*gone);
}

TEST_F(AccountStoreTest, OpeningAnotherConnectionKeepsTheFirstOnesLock) {
    // Closing any descriptor of the file would drop this process's locks on it, and `tern
    // user` would then remove the WAL under the open connection at its close.
    ASSERT_TRUE(store_->add("alice@example.org", "pencil"));
    EXPECT_TRUE(another_process_sees_shared_lock(path_));
    auto second = AccountStore::open(path_, kCheapHashing);
    ASSERT_TRUE(second);
    EXPECT_TRUE(another_process_sees_shared_lock(path_));
    EXPECT_EQ((*second)->exists("alice@example.org"), true);
    second->reset();
    EXPECT_TRUE(another_process_sees_shared_lock(path_));
    EXPECT_EQ(store_->exists("alice@example.org"), true);
}

TEST_F(AccountStoreTest, OpenDoesNotCreateTheFile) {
    std::string missing = dir_ + "/missing.sqlite";
    auto s = AccountStore::open(missing, kCheapHashing);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kIo);
    EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(AccountStoreTest, CreateFileLeavesAnExistingFileAlone) {
    ASSERT_TRUE(store_->add("alice@example.org", "pencil"));
    ASSERT_EQ(chmod(path_.c_str(), 0640), 0);
    ASSERT_TRUE(AccountStore::create_file(path_));
    struct stat st {};
    ASSERT_EQ(stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_TRUE(another_process_sees_shared_lock(path_));
    EXPECT_EQ(store_->exists("alice@example.org"), true);
}

TEST_F(AccountStoreTest, NoPasswordInClear) {
    ASSERT_TRUE(store_->add("alice@example.org", "Sekrit-Passw0rd-1"));
    ASSERT_TRUE(store_->set_password("alice@example.org", "Sekrit-Passw0rd-2"));
    store_.reset();  // checkpoints the WAL into the file
    std::string bytes = file_bytes();
    EXPECT_NE(bytes.find("alice@example.org"), std::string::npos);
    EXPECT_NE(bytes.find("$argon2id$"), std::string::npos);
    EXPECT_EQ(bytes.find("Sekrit-Passw0rd"), std::string::npos);
}

TEST_F(AccountStoreTest, NotADatabase) {
    std::string other = dir_ + "/junk.sqlite";
    std::ofstream(other) << std::string(4096, 'x');
    auto s = AccountStore::open(other, kCheapHashing);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kIo);
    EXPECT_NE(s.error().message.find(other), std::string::npos);
}

TEST_F(AccountStoreTest, UnopenablePath) {
    auto s = create_and_open("/proc/tern-no/accounts.sqlite");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace tern::auth
