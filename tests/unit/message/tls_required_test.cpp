// Unit tests of the TLS-Required header field (RFC 8689 section 3): "No" in any case, folded or
// not, among other fields; any other value, a body line, or a look-alike name is not it.
#include "message/tls_required.h"

#include <gtest/gtest.h>

namespace tern::message {
namespace {

TEST(TlsRequired, NoAmongOtherFields) {
    EXPECT_TRUE(
        tls_required_no("Received: from a by b; date\r\n\tmore\r\nFrom: a@b.example\r\n"
                        "TLS-Required: No\r\nSubject: hi\r\n\r\nbody\r\n"));
}

TEST(TlsRequired, NameAndValueInAnyCaseWithWhiteSpace) {
    for (std::string_view text :
         {"tls-required: no\r\n\r\n", "TLS-REQUIRED:NO\r\n\r\n", "TLS-Required:   No  \r\n\r\n",
          "TLS-Required :\tNo\r\n\r\n", "TLS-Required: No\n\n", "TLS-Required: No"})
        EXPECT_TRUE(tls_required_no(text)) << text;
}

TEST(TlsRequired, FoldedValue) {
    EXPECT_TRUE(tls_required_no("TLS-Required:\r\n No\r\nSubject: x\r\n\r\n"));
    EXPECT_TRUE(tls_required_no("TLS-Required:\r\n\t\r\n No\r\n\r\n"));
}

TEST(TlsRequired, OtherValuesAreIgnored) {
    for (std::string_view text :
         {"TLS-Required: Yes\r\n\r\n", "TLS-Required: No thanks\r\n\r\n",
          "TLS-Required: N o\r\n\r\n", "TLS-Required:\r\n\r\n", "TLS-Required: \"No\"\r\n\r\n",
          "TLS-Required: No\r\n More\r\n\r\n"})
        EXPECT_FALSE(tls_required_no(text)) << text;
}

TEST(TlsRequired, OtherFieldsAndTheBodyDoNotCount) {
    EXPECT_FALSE(tls_required_no("X-TLS-Required: No\r\nTLS-Required-X: No\r\n\r\n"));
    EXPECT_FALSE(tls_required_no("Subject: TLS-Required: No\r\n\r\n"));
    EXPECT_FALSE(tls_required_no("Subject: a\r\n TLS-Required: No\r\n\r\n"));  // a folded line
    EXPECT_FALSE(tls_required_no("Subject: a\r\n\r\nTLS-Required: No\r\n"));
    EXPECT_FALSE(tls_required_no("Subject: a\n\nTLS-Required: No\n"));
    EXPECT_FALSE(tls_required_no(""));
}

TEST(TlsRequired, AnyOfSeveralFieldsSayingNo) {
    EXPECT_TRUE(tls_required_no("TLS-Required: maybe\r\nTLS-Required: No\r\n\r\n"));
}

}  // namespace
}  // namespace tern::message
