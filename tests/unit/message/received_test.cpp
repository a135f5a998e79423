// Unit tests of the Received: trace header and RFC 5322 dates: the exact text for typical
// sessions, folding, and that hostile HELO names, TLS strings and recipients cannot break it.
#include "message/received.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace tern::message {
namespace {

using namespace std::chrono;
using namespace std::string_literals;

constexpr auto kWhen = sys_days{2026y / November / 25} + 10h;

ReceivedInfo typical() {
    ReceivedInfo info;
    info.helo = "mail.example.com";
    info.client_host = "mail.example.com";
    info.client_ip = "192.0.2.1";
    info.by_host = "mx.example.org";
    info.protocol = "ESMTPS";
    info.tls = "version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384";
    info.queue_id = "0123456789ABCDEF";
    info.for_recipient = "alice@example.org";
    info.when = kWhen;
    return info;
}

std::vector<std::string> lines_of(const std::string& header) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < header.size()) {
        std::size_t end = header.find("\r\n", start);
        if (end == std::string::npos) end = header.size();
        lines.push_back(header.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

// The field must be one header: CRLF at the end, and elsewhere only before a TAB; no other
// control octets; parentheses balanced so no comment is left open or closed early.
void expect_well_formed(const std::string& header) {
    ASSERT_TRUE(header.starts_with("Received: from "));
    ASSERT_TRUE(header.ends_with("\r\n"));
    for (std::size_t i = 0; i < header.size(); ++i) {
        auto c = static_cast<unsigned char>(header[i]);
        if (c == '\r') {
            ASSERT_EQ(header[i + 1], '\n') << header;
            if (i + 2 < header.size()) {
                EXPECT_EQ(header[i + 2], '\t') << header;
            }
        } else if (c == '\n') {
            EXPECT_EQ(header[i - 1], '\r') << header;
        } else if (c != '\t') {
            EXPECT_TRUE(c >= 0x20 && c != 0x7F) << "control " << int(c) << " in " << header;
        }
    }
    int depth = 0;
    for (char c : header) {
        if (c == '(') ++depth;
        if (c == ')') --depth;
        EXPECT_GE(depth, 0) << header;
        EXPECT_LE(depth, 1) << header;
    }
    EXPECT_EQ(depth, 0) << header;
    EXPECT_EQ(header.find(';'), header.rfind(';')) << "one ';', before the date: " << header;
}

TEST(Received, TlsReverseDnsAndFor) {
    EXPECT_EQ(received_header(typical()),
              "Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
              "\tby mx.example.org (Tern) with ESMTPS id 0123456789ABCDEF\r\n"
              "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384)\r\n"
              "\tfor <alice@example.org>; Wed, 25 Nov 2026 10:00:00 +0000\r\n");
}

TEST(Received, PlainSessionWithoutReverseDnsOrFor) {
    ReceivedInfo info = typical();
    info.helo = "client.example";
    info.client_host.clear();
    info.client_ip = "192.0.2.7";
    info.protocol = "ESMTP";
    info.tls.clear();
    info.for_recipient.clear();
    // The date does not fit after the id, so it moves to a line of its own.
    EXPECT_EQ(received_header(info),
              "Received: from client.example ([192.0.2.7])\r\n"
              "\tby mx.example.org (Tern) with ESMTP id 0123456789ABCDEF;\r\n"
              "\tWed, 25 Nov 2026 10:00:00 +0000\r\n");
}

TEST(Received, TlsWithoutFor) {
    ReceivedInfo info = typical();
    info.for_recipient.clear();
    info.tls = "version=TLSv1.2";
    EXPECT_EQ(received_header(info),
              "Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
              "\tby mx.example.org (Tern) with ESMTPS id 0123456789ABCDEF\r\n"
              "\t(version=TLSv1.2); Wed, 25 Nov 2026 10:00:00 +0000\r\n");
}

TEST(Received, ForWithoutTls) {
    ReceivedInfo info = typical();
    info.tls.clear();
    info.protocol = "ESMTPA";
    EXPECT_EQ(received_header(info),
              "Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
              "\tby mx.example.org (Tern) with ESMTPA id 0123456789ABCDEF\r\n"
              "\tfor <alice@example.org>; Wed, 25 Nov 2026 10:00:00 +0000\r\n");
}

TEST(Received, Ipv6AddressLiteral) {
    // RFC 5321 section 4.1.3 IPv6-address-literal, as Postfix writes it.
    ReceivedInfo info = typical();
    info.client_ip = "2001:db8::1";
    EXPECT_TRUE(received_header(info).starts_with(
        "Received: from mail.example.com (mail.example.com [IPv6:2001:db8::1])\r\n"));
    info.client_host.clear();
    info.client_ip = "[2001:db8::2]";
    EXPECT_TRUE(
        received_header(info).starts_with("Received: from mail.example.com ([IPv6:2001:db8::2])"));
}

TEST(Received, AddressLiteralHelo) {
    ReceivedInfo info = typical();
    info.helo = "[192.0.2.1]";
    EXPECT_TRUE(received_header(info).starts_with(
        "Received: from [192.0.2.1] (mail.example.com [192.0.2.1])\r\n"));
}

TEST(Received, EmptyHeloIsUnknown) {
    ReceivedInfo info = typical();
    info.helo = "\r\n";
    EXPECT_TRUE(received_header(info).starts_with("Received: from unknown (mail.example.com"));
}

TEST(Received, RecipientInAngleBracketsIsNotDoubled) {
    ReceivedInfo info = typical();
    info.for_recipient = "<alice@example.org>";
    EXPECT_NE(received_header(info).find("\tfor <alice@example.org>; "), std::string::npos);
}

TEST(Received, HeloCannotInjectHeadersOrComments) {
    ReceivedInfo info = typical();
    info.helo = "evil (x) \r\nX-Injected: yes";
    std::string header = received_header(info);
    expect_well_formed(header);
    EXPECT_EQ(header.find("\r\nX-Injected"), std::string::npos);
    EXPECT_TRUE(header.starts_with("Received: from evil??x??X-Injected:?yes (mail.example.com"))
        << header;
}

TEST(Received, EveryValueIsSanitised) {
    ReceivedInfo info;
    info.helo = "a\0b;c\"d"s;
    info.client_host = "host (fake\r\n";
    info.client_ip = "192.0.2.1]) (spoofed [10.0.0.1";
    info.by_host = "mx\texample";
    info.protocol = "ESMTP\r\nX: y";
    info.tls = "version=TLSv1.3 (256 bits)) \\ (";
    info.queue_id = "ID;(x)";
    info.for_recipient = "bob@example.org>; Mon, 1 Jan 2001 00:00:00 +0000 (";
    info.when = kWhen;
    std::string header = received_header(info);
    expect_well_formed(header);
    EXPECT_NE(header.find("from ab?c?d (host??fake [192.0.2.1????spoofed??10.0.0.1])"),
              std::string::npos)
        << header;
    EXPECT_NE(header.find("by mxexample (Tern) with ESMTPX??y id ID??x?"), std::string::npos)
        << header;
    EXPECT_NE(header.find("(version=TLSv1.3 ?256 bits?? ? ?)"), std::string::npos) << header;
    EXPECT_NE(header.find("for <bob@example.org?? Mon, 1 Jan 2001 00:00:00 +0000 ?>;"),
              std::string::npos)
        << header;
    EXPECT_TRUE(header.ends_with("?>;\r\n\tWed, 25 Nov 2026 10:00:00 +0000\r\n")) << header;
}

TEST(Received, LongValuesFoldWithinSeventyEightOctets) {
    ReceivedInfo info = typical();
    info.client_host = "a-rather-long-reverse-dns-name.customers.isp.example.net";
    info.client_ip = "2001:db8:1234:5678:9abc:def0:1234:5678";
    info.tls =
        "version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256 verify=OK "
        "peer=CN=client.example.org,O=Example";
    info.for_recipient = "somebody.with.a.long.name@subdomain.example.org";
    std::string header = received_header(info);
    expect_well_formed(header);
    for (const std::string& line : lines_of(header))
        EXPECT_LE(line.size(), 78u) << line;
    EXPECT_EQ(header,
              "Received: from mail.example.com\r\n"
              "\t(a-rather-long-reverse-dns-name.customers.isp.example.net\r\n"
              "\t[IPv6:2001:db8:1234:5678:9abc:def0:1234:5678])\r\n"
              "\tby mx.example.org (Tern) with ESMTPS id 0123456789ABCDEF\r\n"
              "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256 verify=OK\r\n"
              "\tpeer=CN=client.example.org,O=Example)\r\n"
              "\tfor <somebody.with.a.long.name@subdomain.example.org>;\r\n"
              "\tWed, 25 Nov 2026 10:00:00 +0000\r\n");
}

TEST(Received, Utf8KeptOnlyForUtf8Protocols) {
    ReceivedInfo info = typical();
    info.helo =
        "b\xC3\xBC"
        "cher.example";
    info.for_recipient = "d\xC3\xB6rte@example.org";
    info.protocol = "UTF8SMTPS";
    std::string header = received_header(info);
    EXPECT_TRUE(
        header.starts_with("Received: from b\xC3\xBC"
                           "cher.example "))
        << header;
    EXPECT_NE(header.find("for <d\xC3\xB6rte@example.org>;"), std::string::npos) << header;

    info.protocol = "ESMTPS";
    header = received_header(info);
    EXPECT_TRUE(header.starts_with("Received: from b?cher.example ")) << header;
    EXPECT_NE(header.find("for <d?rte@example.org>;"), std::string::npos) << header;

    info.protocol = "UTF8SMTPS";
    info.helo = "bad\xC3(\xFF";
    EXPECT_TRUE(received_header(info).starts_with("Received: from bad??? ")) << header;
}

TEST(Rfc5322Date, FixedEnglishNamesInUtc) {
    EXPECT_EQ(rfc5322_date(kWhen), "Wed, 25 Nov 2026 10:00:00 +0000");
    EXPECT_EQ(rfc5322_date(system_clock::time_point{}), "Thu, 01 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(rfc5322_date(sys_days{2000y / February / 29} + 23h + 59min + 59s + 999ms),
              "Tue, 29 Feb 2000 23:59:59 +0000");
    EXPECT_EQ(rfc5322_date(sys_days{2024y / June / 2} + 7h + 5min + 3s),
              "Sun, 02 Jun 2024 07:05:03 +0000");
    EXPECT_EQ(rfc5322_date(sys_days{1969y / December / 31} + 23h),
              "Wed, 31 Dec 1969 23:00:00 +0000");
}

TEST(Rfc5322Date, EveryMonthAndWeekday) {
    const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (unsigned m = 1; m <= 12; ++m) {
        std::string date = rfc5322_date(sys_days{2026y / month{m} / 1});
        EXPECT_EQ(date.substr(8, 3), months[m - 1]) << date;
    }
    const char* weekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (unsigned d = 0; d < 7; ++d) {  // 2026-11-23 is a Monday
        std::string date = rfc5322_date(sys_days{2026y / November / 23} + days{d});
        EXPECT_EQ(date.substr(0, 3), weekdays[d]) << date;
    }
}

}  // namespace
}  // namespace tern::message
