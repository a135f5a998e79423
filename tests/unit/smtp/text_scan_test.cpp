// Unit tests of TextScan: Received fields counted only in the header section, in pieces split
// anywhere; NUL octets refused, stripped or kept.
#include "smtp/text_scan.h"

#include <gtest/gtest.h>

namespace tern::smtp {
namespace {

std::size_t hops_of(const std::string& text, std::size_t step) {
    TextScan scan;
    for (std::size_t i = 0; i < text.size(); i += step) {
        std::string piece = text.substr(i, step);
        scan.scan(piece);
    }
    return scan.received_fields();
}

TEST(TextScan, CountsReceivedFieldsInAnySplit) {
    std::string text =
        "Received: from a by b;\r\n\tMon, 1 Jan 2024\r\n"
        "RECEIVED: from c by d\r\n"
        "received : obsolete blank before the colon\r\n"
        "X-Received: not a hop\r\n"
        "Received-SPF: pass\r\n"
        "Subject: Received: not one\r\n"
        " Received: a continuation line\r\n"
        "Receive: short\r\n"
        "\r\n"
        "Received: in the body\r\n";
    for (std::size_t step = 1; step <= text.size(); ++step)
        EXPECT_EQ(hops_of(text, step), 3u) << "step " << step;
}

TEST(TextScan, BareLfEndsHeaderLinesToo) {
    EXPECT_EQ(hops_of("Received: a\nReceived: b\n\nReceived: c\n", 5), 2u);
}

TEST(TextScan, MessageWithoutBodyCountsAll) {
    EXPECT_EQ(hops_of("Received: a\r\nReceived: b\r\n", 100), 2u);
}

TEST(TextScan, NulOctetsInHeaderAndBodyAreCounted) {
    TextScan scan(NulOctets::kReject);
    std::string a("Subj\0ect: x\r\n\r\n", 15);
    std::string b("a\0b\0", 4);
    scan.scan(a);
    scan.scan(b);
    EXPECT_EQ(scan.nul_octets(), 3u);
    EXPECT_TRUE(scan.refuse_nul());
    EXPECT_EQ(b, std::string("a\0b\0", 4));  // not changed when refusing
}

TEST(TextScan, StripRemovesThem) {
    TextScan scan(NulOctets::kStrip);
    std::string a("Subj\0ect: x\r\n\r\na\0b", 18);
    scan.scan(a);
    EXPECT_EQ(a, "Subject: x\r\n\r\nab");
    EXPECT_EQ(scan.nul_octets(), 2u);
    EXPECT_FALSE(scan.refuse_nul());
}

TEST(TextScan, AcceptKeepsThem) {
    TextScan scan(NulOctets::kAccept);
    std::string a("x\r\n\r\n\0", 6);
    scan.scan(a);
    EXPECT_EQ(a.size(), 6u);
    EXPECT_EQ(scan.nul_octets(), 1u);
    EXPECT_FALSE(scan.refuse_nul());
}

}  // namespace
}  // namespace tern::smtp
