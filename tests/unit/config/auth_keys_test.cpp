// Unit tests of the [auth] keys: their defaults, the account database following data_dir, and
// the ranges and cross-check that refuse unsafe values.
#include <gtest/gtest.h>

#include "config/config.h"

namespace tern::config {
namespace {

TEST(AuthKeys, Defaults) {
    Config c = defaults();
    EXPECT_EQ(c.auth_database, "./var/accounts.sqlite");
    EXPECT_EQ(c.argon2_memory_kib, 19456u);
    EXPECT_EQ(c.argon2_iterations, 2u);
    EXPECT_EQ(c.argon2_parallelism, 1u);
    EXPECT_EQ(c.scram_iterations, 4096u);
    EXPECT_EQ(c.auth_threads, 2u);
    EXPECT_EQ(c.auth_queue, 256u);
    EXPECT_EQ(c.throttle_base_delay, std::chrono::seconds(1));
    EXPECT_EQ(c.throttle_max_delay, std::chrono::seconds(60));
    EXPECT_EQ(c.throttle_reset_after, std::chrono::seconds(900));
    EXPECT_EQ(c.throttle_max_entries, 65536u);
    EXPECT_EQ(c.throttle_free_per_login, 3u);
    EXPECT_EQ(c.throttle_free_per_address, 10u);
    EXPECT_EQ(c.throttle_free_per_account, 10u);
}

TEST(AuthKeys, DatabaseFollowsDataDirUnlessNamed) {
    auto c = load_string("[server]\ndata_dir = \"/srv/tern\"\n", "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->auth_database, "/srv/tern/accounts.sqlite");
    c = load_string("[server]\ndata_dir = \"/srv/tern\"\n[auth]\ndatabase = \"/etc/tern/a.db\"\n",
                    "t.toml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->auth_database, "/etc/tern/a.db");
}

TEST(AuthKeys, ReadsEveryKey) {
    auto c = load_string(R"([auth]
argon2_memory_kib = 65536
argon2_iterations = 3
argon2_parallelism = 4
scram_iterations = 10000
verify_threads = 4
verify_queue = 10
throttle_base_delay = "2s"
throttle_max_delay = "5m"
throttle_reset_after = "1h"
throttle_max_entries = 1000
throttle_free_per_login = 0
throttle_free_per_address = 50
throttle_free_per_account = 7
)",
                         "t.toml");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->argon2_memory_kib, 65536u);
    EXPECT_EQ(c->argon2_iterations, 3u);
    EXPECT_EQ(c->argon2_parallelism, 4u);
    EXPECT_EQ(c->scram_iterations, 10000u);
    EXPECT_EQ(c->auth_threads, 4u);
    EXPECT_EQ(c->auth_queue, 10u);
    EXPECT_EQ(c->throttle_base_delay, std::chrono::seconds(2));
    EXPECT_EQ(c->throttle_max_delay, std::chrono::seconds(300));
    EXPECT_EQ(c->throttle_reset_after, std::chrono::seconds(3600));
    EXPECT_EQ(c->throttle_max_entries, 1000u);
    EXPECT_EQ(c->throttle_free_per_login, 0u);
    EXPECT_EQ(c->throttle_free_per_address, 50u);
    EXPECT_EQ(c->throttle_free_per_account, 7u);
}

TEST(AuthKeys, RangesAreEnforced) {
    for (const char* bad :
         {"scram_iterations = 4095", "argon2_memory_kib = 512", "argon2_iterations = 0",
          "argon2_parallelism = 17", "verify_threads = 0", "verify_queue = 0",
          "throttle_base_delay = 0", "throttle_max_entries = 1", "throttle_free_per_login = -1",
          "throttle_free_per_login = 1001", "throttle_free_per_address = 100001",
          "throttle_free_per_account = 100001"}) {
        auto c = load_string(std::string("[auth]\n") + bad + "\n", "t.toml");
        ASSERT_FALSE(c) << bad;
        EXPECT_NE(c.error().message.find("t.toml:2:"), std::string::npos) << c.error().message;
        EXPECT_NE(c.error().message.find("auth."), std::string::npos) << c.error().message;
    }
    auto c = load_string("[auth]\nthrottle_base_delay = \"2m\"\nthrottle_max_delay = \"1m\"\n",
                         "t.toml");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("auth.throttle_base_delay"), std::string::npos);
}

}  // namespace
}  // namespace tern::config
