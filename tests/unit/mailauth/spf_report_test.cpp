// The Received-SPF field (RFC 7208 section 9.1) written from SPF outcomes: wording, quoting
// of odd values, folding.
#include "mailauth/spf_report.h"

#include <gtest/gtest.h>

#include "spf_zone.h"

namespace tern::mailauth {
namespace {

using testing::FakeZone;
using testing::mail_from;
using testing::run_check;

TEST(SpfReport, ReceivedSpfPass) {
    FakeZone z;
    z.txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    SpfRequest r = mail_from("192.0.2.1", "myname@example.com", "foo.example.com");
    auto o = run_check(z, r);
    EXPECT_EQ(received_spf_field(r, o, "mybox.example.org"),
              "Received-SPF: pass (mybox.example.org: domain of myname@example.com designates\r\n"
              " 192.0.2.1 as permitted sender) client-ip=192.0.2.1;\r\n"
              " envelope-from=\"myname@example.com\"; helo=foo.example.com;\r\n"
              " receiver=mybox.example.org; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"\r\n");
}

TEST(SpfReport, ReceivedSpfErrorsCarryTheProblem) {
    FakeZone z;
    z.txt("example.com", "v=spf1 a:(bad) -all");
    SpfRequest r = mail_from("2001:db8::1", "a@example.com", "helo with space");
    auto o = run_check(z, r);
    ASSERT_EQ(o.result, AuthResult::kPermError);
    std::string field = received_spf_field(r, o, "mx.example.org");
    std::string unfolded;  // RFC 5322 unfolding: the CRLFs go, the spaces after them stay
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field.compare(i, 2, "\r\n") == 0 && i + 2 < field.size()) {
            ++i;
            continue;
        }
        unfolded += field[i];
    }
    EXPECT_TRUE(
        unfolded.starts_with("Received-SPF: permerror (mx.example.org: error in processing"));
    EXPECT_NE(unfolded.find("client-ip=\"2001:db8::1\";"), std::string::npos);
    EXPECT_NE(unfolded.find("helo=\"helo with space\";"), std::string::npos);
    EXPECT_NE(unfolded.find("problem=\"syntax error in the SPF record of example.com"),
              std::string::npos);
    EXPECT_NE(unfolded.find("\\(bad\\)"), std::string::npos);  // escaped in the comment
    // Every line fits in 78 columns plus CRLF, and continuation lines start with a space.
    std::size_t start = 0;
    while (start < field.size()) {
        std::size_t end = field.find("\r\n", start);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - start, 78u);
        if (start > 0) {
            EXPECT_EQ(field[start], ' ');
        }
        start = end + 2;
    }
}

}  // namespace
}  // namespace tern::mailauth
