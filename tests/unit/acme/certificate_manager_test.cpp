// CertificateManager: what it reads of the stored certificate and when it wants a new one.
#include "acme/certificate_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "log/logger.h"
#include "test_files.h"
#include "tls/self_signed.h"

namespace tern::acme {
namespace {

class CertificateManagerTest : public ::testing::Test {
  protected:
    CertificateManager manager(std::vector<std::string> names, std::chrono::seconds renew_before) {
        CertificateManagerOptions o;
        o.names = std::move(names);
        o.dir = dir_.path();
        o.renew_before = renew_before;
        return CertificateManager(home_, client_, o, log_,
                                  [](const std::string&) -> Result<void> { return {}; });
    }
    // A certificate for mx.example.test and localhost where the manager keeps its own.
    void store_one() {
        auto made = tls::ensure_self_signed(dir_.path() + "/tls", "mx.example.test");
        ASSERT_TRUE(made) << made.error().message;
        std::filesystem::copy_file(made->files.cert, certificate_path(dir_.path()));
    }

    tern::testing::TempDir dir_{"tern-acme-manager"};
    boost::asio::io_context home_;
    log::Logger log_{log::Format::kText, log::Level::kError};
    ChallengeResponder responder_;
    AcmeClient client_{*EcKey::generate(), AcmeOptions{}, responder_, log_};
};

TEST_F(CertificateManagerTest, WithoutAStoredCertificateOneIsDueNow) {
    auto m = manager({"mx.example.test"}, std::chrono::hours(24 * 30));
    EXPECT_FALSE(m.stored());
    EXPECT_EQ(m.due_at(1'700'000'000), 0);
}

TEST_F(CertificateManagerTest, ReadsTheNamesAndExpiryAndIsDueRenewBeforeIt) {
    store_one();
    auto m = manager({"localhost", "MX.example.test"}, std::chrono::hours(24 * 30));
    auto s = m.stored();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->path, certificate_path(dir_.path()));
    EXPECT_NE(std::find(s->names.begin(), s->names.end(), "mx.example.test"), s->names.end());
    std::int64_t now = std::time(nullptr);
    ASSERT_GT(s->not_after, now + 60 * 86400);
    EXPECT_EQ(m.due_at(now), s->not_after - 30 * 86400);
    EXPECT_EQ(m.due_at(s->not_after - 29 * 86400), 0);  // within renew_before: now
}

TEST_F(CertificateManagerTest, OtherNamesThanConfiguredMakeItDueNow) {
    store_one();
    auto m = manager({"mx.example.test", "smtp.example.test"}, std::chrono::hours(24));
    EXPECT_EQ(m.due_at(std::time(nullptr)), 0);
}

}  // namespace
}  // namespace tern::acme
