// Unit tests of the self-signed default certificate: what it names (the host, localhost,
// 127.0.0.1 and ::1), that it is made once and kept, and that a file not of its making is kept.
#include "tls/self_signed.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "test_files.h"
#include "tls/server_context.h"

namespace tern::tls {
namespace {

namespace fs = std::filesystem;

class SelfSignedTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_FALSE(dir_.empty()); }
    static std::string read(const std::string& path) { return tern::testing::read_file(path); }

    tern::testing::TempDir temp_{"tern-self-signed"};
    std::string dir_ = temp_.path();
};

TEST_F(SelfSignedTest, NamesTheHostLocalhostAndTheLoopbackAddresses) {
    auto made = ensure_self_signed(dir_ + "/tls", "mx.example.test");
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_EQ(made->action, SelfSignedAction::kMade);
    EXPECT_EQ(made->files.cert, dir_ + "/tls/self-signed.pem");
    struct stat st {};
    ASSERT_EQ(::stat(made->files.cert.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    std::FILE* in = std::fopen(made->files.cert.c_str(), "rb");
    ASSERT_NE(in, nullptr);
    X509* cert = PEM_read_X509(in, nullptr, nullptr, nullptr);
    std::fclose(in);
    ASSERT_NE(cert, nullptr);
    EXPECT_EQ(X509_check_host(cert, "mx.example.test", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.2", 0), 0);
    EXPECT_EQ(X509_check_host(cert, "other.example.test", 0, 0, nullptr), 0);
    X509_free(cert);

    std::string pem = read(made->files.cert);
    auto again = ensure_self_signed(dir_ + "/tls", "mx.example.test");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->action, SelfSignedAction::kKept);
    EXPECT_EQ(read(made->files.cert), pem);
}

TEST_F(SelfSignedTest, AFileOfSomeoneElseIsKept) {
    fs::create_directories(dir_ + "/tls");
    const std::string other = "not a certificate of ours\n";
    std::ofstream(dir_ + "/tls/self-signed.pem") << other;
    auto kept = ensure_self_signed(dir_ + "/tls", "mx.example.test");
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->action, SelfSignedAction::kKept);
    EXPECT_EQ(read(dir_ + "/tls/self-signed.pem"), other);
}

TEST_F(SelfSignedTest, TheServerContextSummarisesTheCertificateInUse) {
    auto made = ensure_self_signed(dir_ + "/tls", "mx.example.test");
    ASSERT_TRUE(made) << made.error().message;
    auto context = ServerContext::create(ServerOptions{{made->files}});
    ASSERT_TRUE(context) << context.error().message;
    auto certificates = (*context)->certificates();
    ASSERT_EQ(certificates.size(), 1u);
    const auto& c = certificates[0];
    EXPECT_EQ(c.file, made->files.cert);
    EXPECT_NE(std::find(c.names.begin(), c.names.end(), "mx.example.test"), c.names.end());
    EXPECT_TRUE(c.self_signed);
    EXPECT_NE(c.issuer.find("mx.example.test"), std::string::npos) << c.issuer;
    std::int64_t now = std::time(nullptr);
    EXPECT_LE(c.not_before, now);
    EXPECT_GT(c.not_after, now + 30 * 86400);
}

}  // namespace
}  // namespace tern::tls
