// Unit tests of delivery status notifications: each notice is parsed back (headers, MIME parts,
// delivery-status groups) and checked field by field, as a sender's mail program would read it.
#include "message/dsn.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace tern::message {
namespace {

using namespace std::chrono;

constexpr auto kArrival = sys_days{2026y / November / 25} + 10h;
constexpr auto kNow = kArrival + 2h;

const std::string kOriginal =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Lunch\r\n"
    "Message-ID: <lunch.1@example.com>\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n"
    "-- \r\n"
    "Alice\r\n";
const std::string kOriginalHeaders =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Lunch\r\n"
    "Message-ID: <lunch.1@example.com>\r\n";

using Fields = std::multimap<std::string, std::string>;  // lower-case name -> unfolded value

struct Part {
    Fields headers;
    std::string body;
};

struct Parsed {
    Fields headers;
    std::string boundary;
    std::string preamble;
    std::vector<Part> parts;
};

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// RFC 5322 unfolding: a CRLF followed by white space is removed.
std::string unfold(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 2) == "\r\n" && i + 2 < text.size() &&
            (text[i + 2] == ' ' || text[i + 2] == '\t')) {
            ++i;
            continue;
        }
        out += text[i];
    }
    return out;
}

Fields parse_fields(std::string_view block) {
    Fields fields;
    std::string text = unfold(block);
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find("\r\n", start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 2;
        if (line.empty()) continue;
        std::size_t colon = line.find(':');
        EXPECT_NE(colon, std::string::npos) << "not a field: " << line;
        if (colon == std::string::npos) continue;
        std::size_t value = line.find_first_not_of(' ', colon + 1);
        fields.emplace(lower(line.substr(0, colon)),
                       value == std::string::npos ? "" : line.substr(value));
    }
    return fields;
}

std::string field(const Fields& fields, const std::string& name) {
    auto it = fields.find(lower(name));
    return it == fields.end() ? "<absent>" : it->second;
}

// Splits a header block from a body at the first empty line.
std::pair<std::string, std::string> split_head(std::string_view text) {
    std::size_t end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) return {std::string(text), ""};
    return {std::string(text.substr(0, end + 2)), std::string(text.substr(end + 4))};
}

Parsed parse(const std::string& dsn) {
    Parsed parsed;
    auto [head, body] = split_head(dsn);
    parsed.headers = parse_fields(head);
    std::string type = field(parsed.headers, "Content-Type");
    std::size_t b = type.find("boundary=\"");
    EXPECT_NE(b, std::string::npos) << type;
    if (b == std::string::npos) return parsed;
    std::size_t start = b + 10;
    parsed.boundary = type.substr(start, type.find('"', start) - start);

    // RFC 2046 section 5.1.1: each delimiter is CRLF "--" boundary; the last one adds "--".
    const std::string delimiter = "\r\n--" + parsed.boundary;
    std::size_t pos = body.find(delimiter);
    EXPECT_NE(pos, std::string::npos);
    parsed.preamble = body.substr(0, pos);
    while (pos != std::string::npos) {
        std::size_t after = pos + delimiter.size();
        if (body.compare(after, 4, "--\r\n") == 0) {
            EXPECT_EQ(after + 4, body.size()) << "text after the close delimiter";
            break;
        }
        EXPECT_EQ(body.compare(after, 2, "\r\n"), 0) << "delimiter not followed by CRLF";
        std::size_t next = body.find(delimiter, after);
        EXPECT_NE(next, std::string::npos) << "no close delimiter";
        auto [part_head, part_body] =
            split_head(std::string_view(body).substr(after + 2, next - after - 2));
        parsed.parts.push_back({parse_fields(part_head), part_body});
        pos = next;
    }
    return parsed;
}

// The groups of a delivery-status body: per-message fields first, then one per recipient.
std::vector<Fields> status_groups(const std::string& body) {
    std::vector<Fields> groups;
    std::size_t start = 0;
    while (start < body.size()) {
        std::size_t end = body.find("\r\n\r\n", start);
        if (end == std::string::npos) end = body.size();
        groups.push_back(parse_fields(std::string_view(body).substr(start, end - start + 2)));
        start = end + 4;
    }
    return groups;
}

DsnRecipient failed_bob() {
    DsnRecipient r;
    r.final_recipient = "bob@example.org";
    r.original_recipient = "rfc822;Bob@Example.org";
    r.action = DsnAction::kFailed;
    r.status = "5.1.1";
    r.remote_mta = "mx.example.org";
    r.diagnostic = "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown";
    r.last_attempt = kArrival + 1min;
    return r;
}

DsnRecipient delayed_carol() {
    DsnRecipient r;
    r.final_recipient = "carol@example.net";
    r.action = DsnAction::kDelayed;
    r.status = "4.4.1";
    r.remote_mta = "mx.example.net";
    r.diagnostic = "421 4.4.1 Connection timed out";
    r.last_attempt = kNow;
    r.will_retry_until = kArrival + days{5};
    return r;
}

DsnRequest request_with(std::vector<DsnRecipient> recipients) {
    DsnRequest request;
    request.reporting_mta = "mx.example.com";
    request.from = "MAILER-DAEMON@mx.example.com";
    request.to = "alice@example.com";
    request.envelope_id = "QQ314159";
    request.original_queue_id = "0123456789ABCDEF";
    request.arrival_date = kArrival;
    request.recipients = std::move(recipients);
    request.original = kOriginal;
    request.message_id = "<0123456789ABCDEF.dsn@mx.example.com>";
    return request;
}

// Properties every notice has, whatever it reports.
void expect_well_formed(const std::string& dsn) {
    for (std::size_t i = 0; i < dsn.size(); ++i) {
        if (dsn[i] == '\r') {
            ASSERT_EQ(dsn[i + 1], '\n') << "bare CR at " << i;
        }
        if (dsn[i] == '\n') {
            ASSERT_EQ(dsn[i - 1], '\r') << "bare LF at " << i;
        }
    }
    std::size_t start = 0;
    while (start < dsn.size()) {
        std::size_t end = dsn.find("\r\n", start);
        EXPECT_LE(end - start, 998u) << "line over the RFC 5322 limit";
        start = end + 2;
    }
    EXPECT_TRUE(dsn.ends_with("--\r\n"));
}

TEST(Dsn, FailedRecipientReport) {
    std::string dsn = build_dsn(request_with({failed_bob()}), kNow);
    expect_well_formed(dsn);
    Parsed p = parse(dsn);

    EXPECT_EQ(field(p.headers, "From"), "Mail Delivery System <MAILER-DAEMON@mx.example.com>");
    EXPECT_EQ(field(p.headers, "To"), "<alice@example.com>");
    EXPECT_EQ(field(p.headers, "Subject"), "Undelivered Mail Returned to Sender");
    EXPECT_EQ(field(p.headers, "Date"), "Wed, 25 Nov 2026 12:00:00 +0000");
    EXPECT_EQ(field(p.headers, "Message-ID"), "<0123456789ABCDEF.dsn@mx.example.com>");
    EXPECT_EQ(field(p.headers, "Auto-Submitted"), "auto-replied");
    EXPECT_EQ(field(p.headers, "MIME-Version"), "1.0");
    EXPECT_EQ(field(p.headers, "Content-Type"),
              "multipart/report; report-type=delivery-status; boundary=\"" + p.boundary + "\"");
    EXPECT_EQ(p.headers.count("content-transfer-encoding"), 0u);
    EXPECT_FALSE(p.boundary.empty());
    EXPECT_LE(p.boundary.size(), 70u);
    EXPECT_EQ(dsn.find("\r\n\r\n"), dsn.find("\r\n\r\nThis is a MIME-encapsulated message."));

    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[0].headers, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(field(p.parts[1].headers, "Content-Type"), "message/delivery-status");
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "text/rfc822-headers");

    const std::string& text = p.parts[0].body;
    EXPECT_NE(text.find("mx.example.com"), std::string::npos) << text;
    EXPECT_NE(text.find("<bob@example.org>: host mx.example.org said: 550 5.1.1"),
              std::string::npos)
        << text;
    EXPECT_NE(unfold(text).find("Recipient address rejected: User unknown"), std::string::npos);
    EXPECT_NE(text.find("could not be delivered"), std::string::npos) << text;
    EXPECT_NE(text.find("The headers of your message are attached."), std::string::npos) << text;

    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 2u) << p.parts[1].body;
    EXPECT_EQ(field(groups[0], "Reporting-MTA"), "dns; mx.example.com");
    EXPECT_EQ(field(groups[0], "Original-Envelope-Id"), "QQ314159");
    EXPECT_EQ(field(groups[0], "Arrival-Date"), "Wed, 25 Nov 2026 10:00:00 +0000");
    EXPECT_EQ(field(groups[0], "X-Tern-Queue-ID"), "0123456789ABCDEF");
    EXPECT_EQ(field(groups[1], "Original-Recipient"), "rfc822; Bob@Example.org");
    EXPECT_EQ(field(groups[1], "Final-Recipient"), "rfc822; bob@example.org");
    EXPECT_EQ(field(groups[1], "Action"), "failed");
    EXPECT_EQ(field(groups[1], "Status"), "5.1.1");
    EXPECT_EQ(field(groups[1], "Remote-MTA"), "dns; mx.example.org");
    EXPECT_EQ(field(groups[1], "Diagnostic-Code"),
              "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown");
    EXPECT_EQ(field(groups[1], "Last-Attempt-Date"), "Wed, 25 Nov 2026 10:01:00 +0000");
    EXPECT_EQ(groups[1].count("will-retry-until"), 0u);

    EXPECT_EQ(p.parts[2].body, kOriginalHeaders);
}

TEST(Dsn, TernsOwnDecisionIsNotPutInTheHostsMouth) {
    DsnRecipient r = failed_bob();
    r.status = "5.6.7";
    r.remote_mta.clear();
    r.diagnostic_type = "X-Tern";
    r.diagnostic =
        "553 5.6.7 the receiving server does not support SMTPUTF8 (RFC 6531) "
        "(server mx.example.org[192.0.2.1]:25)";
    Parsed p = parse(build_dsn(request_with({r}), kNow));
    std::string text;  // the readable part with its wrapping undone
    for (char c : unfold(p.parts[0].body))
        if (c != ' ' || text.empty() || text.back() != ' ') text += c;
    EXPECT_EQ(text.find(" said:"), std::string::npos) << text;
    EXPECT_NE(text.find("<bob@example.org>: 553 5.6.7 the receiving server does not support"),
              std::string::npos)
        << text;
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(field(groups[1], "Remote-MTA"), "<absent>");
    EXPECT_EQ(field(groups[1], "Diagnostic-Code").rfind("X-Tern; 553 5.6.7 ", 0), 0u);
}

TEST(Dsn, AVerdictComesFirstAndTheLastAttemptAfterIt) {
    DsnRecipient r = failed_bob();
    r.status = "5.0.0";
    r.verdict = "554 5.0.0 Message returned to sender by the postmaster";
    r.diagnostic = "451 4.4.1 try again later";
    Parsed p = parse(build_dsn(request_with({r}), kNow));
    std::string text;  // the readable part with its wrapping undone
    for (char c : unfold(p.parts[0].body))
        if (c != ' ' || text.empty() || text.back() != ' ') text += c;
    EXPECT_NE(text.find("<bob@example.org>: 554 5.0.0 Message returned to sender by the "
                        "postmaster; the last attempt: host mx.example.org said: 451 4.4.1 try "
                        "again later"),
              std::string::npos)
        << text;
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    EXPECT_EQ(field(groups[1], "Status"), "5.0.0");
    EXPECT_EQ(field(groups[1], "Diagnostic-Code"), "smtp; 451 4.4.1 try again later");
}

TEST(Dsn, StatusPartIsExactlyAsRfc3464Shows) {
    DsnRecipient r = failed_bob();
    r.original_recipient.clear();
    r.diagnostic = "550 5.1.1 No such user";
    DsnRequest request = request_with({r});
    request.envelope_id.clear();
    Parsed p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(p.parts[1].body,
              "Reporting-MTA: dns; mx.example.com\r\n"
              "X-Tern-Queue-ID: 0123456789ABCDEF\r\n"
              "Arrival-Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
              "\r\n"
              "Final-Recipient: rfc822; bob@example.org\r\n"
              "Action: failed\r\n"
              "Status: 5.1.1\r\n"
              "Remote-MTA: dns; mx.example.org\r\n"
              "Diagnostic-Code: smtp; 550 5.1.1 No such user\r\n"
              "Last-Attempt-Date: Wed, 25 Nov 2026 10:01:00 +0000\r\n");
}

TEST(Dsn, DelayedOnly) {
    Parsed p = parse(build_dsn(request_with({delayed_carol()}), kNow));
    EXPECT_EQ(field(p.headers, "Subject"), "Delayed Mail (still being retried)");
    ASSERT_EQ(p.parts.size(), 3u);
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(field(groups[1], "Action"), "delayed");
    EXPECT_EQ(field(groups[1], "Status"), "4.4.1");
    EXPECT_EQ(field(groups[1], "Will-Retry-Until"), "Mon, 30 Nov 2026 10:00:00 +0000");
    EXPECT_EQ(groups[1].count("original-recipient"), 0u);
    EXPECT_NE(p.parts[0].body.find("keep trying until Mon, 30 Nov 2026 10:00:00 +0000"),
              std::string::npos)
        << p.parts[0].body;
}

TEST(Dsn, SuccessReports) {
    for (DsnAction action : {DsnAction::kDelivered, DsnAction::kRelayed, DsnAction::kExpanded}) {
        DsnRecipient r;
        r.final_recipient = "dave@example.com";
        r.action = action;
        r.status = "2.0.0";
        DsnRequest request = request_with({r});
        Parsed p = parse(build_dsn(request, kNow));
        EXPECT_EQ(field(p.headers, "Subject"), "Successful Mail Delivery Report");
        ASSERT_EQ(p.parts.size(), 3u);
        std::vector<Fields> groups = status_groups(p.parts[1].body);
        ASSERT_EQ(groups.size(), 2u);
        const char* keyword = action == DsnAction::kDelivered ? "delivered"
                              : action == DsnAction::kRelayed ? "relayed"
                                                              : "expanded";
        EXPECT_EQ(field(groups[1], "Action"), keyword);
        EXPECT_EQ(groups[1].count("remote-mta"), 0u);
        EXPECT_EQ(groups[1].count("diagnostic-code"), 0u);
        EXPECT_EQ(groups[1].count("last-attempt-date"), 0u);
        EXPECT_EQ(groups[1].count("will-retry-until"), 0u);
        EXPECT_NE(p.parts[0].body.find("<dave@example.com>: status 2.0.0"), std::string::npos);
    }
}

TEST(Dsn, OneGroupPerRecipientInOrder) {
    DsnRecipient delivered;
    delivered.final_recipient = "erin@example.com";
    delivered.original_recipient = "rfc822;erin@example.com";
    delivered.action = DsnAction::kDelivered;
    delivered.status = "2.0.0";
    Parsed p = parse(build_dsn(request_with({failed_bob(), delayed_carol(), delivered}), kNow));
    EXPECT_EQ(field(p.headers, "Subject"), "Undelivered Mail Returned to Sender");
    ASSERT_EQ(p.parts.size(), 3u);
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 4u) << p.parts[1].body;
    EXPECT_EQ(groups[0].count("final-recipient"), 0u);
    EXPECT_EQ(field(groups[1], "Final-Recipient"), "rfc822; bob@example.org");
    EXPECT_EQ(field(groups[2], "Final-Recipient"), "rfc822; carol@example.net");
    EXPECT_EQ(field(groups[3], "Final-Recipient"), "rfc822; erin@example.com");
    EXPECT_EQ(field(groups[3], "Original-Recipient"), "rfc822; erin@example.com");
    EXPECT_EQ(field(groups[2], "Will-Retry-Until"), "Mon, 30 Nov 2026 10:00:00 +0000");
    for (const Fields& g : groups) {
        if (g.count("final-recipient") == 0) continue;
        EXPECT_EQ(g.count("action"), 1u);
        EXPECT_EQ(g.count("status"), 1u);
    }
    const std::string& text = p.parts[0].body;
    EXPECT_LT(text.find("<bob@example.org>"), text.find("<carol@example.net>"));
    EXPECT_LT(text.find("<carol@example.net>"), text.find("<erin@example.com>"));
}

TEST(Dsn, MalformedStatusFallsBackToItsClass) {
    DsnRecipient failed = failed_bob();
    failed.status = "5.1.1\r\nX-Evil: 1";
    DsnRecipient delayed = delayed_carol();
    delayed.status = "";
    Parsed p = parse(build_dsn(request_with({failed, delayed}), kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(field(groups[1], "Status"), "5.0.0");
    EXPECT_EQ(field(groups[2], "Status"), "4.0.0");
}

TEST(Dsn, ReturnFullMessage) {
    DsnRequest request = request_with({failed_bob()});
    request.return_full = true;
    Parsed p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/rfc822");
    EXPECT_EQ(p.parts[2].body, kOriginal);
    EXPECT_NE(p.parts[0].body.find("A copy of your message is attached."), std::string::npos);
}

TEST(Dsn, ReturnFullUpToTheSizeLimit) {
    DsnRequest request = request_with({failed_bob()});
    request.return_full = true;
    request.max_returned = kOriginal.size();
    Parsed p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/rfc822");
    EXPECT_EQ(p.parts[2].body, kOriginal);

    request.max_returned = kOriginal.size() - 1;
    p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "text/rfc822-headers");
    EXPECT_EQ(p.parts[2].body, kOriginalHeaders);
    EXPECT_NE(p.parts[0].body.find("too large to return in full"), std::string::npos);
}

TEST(Dsn, HeadersOfAMessageWithoutBody) {
    DsnRequest request = request_with({failed_bob()});
    std::string original = "Subject: only headers\r\nX-A: b\r\n";
    request.original = original;
    Parsed p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(p.parts[2].body, original);
}

TEST(Dsn, NoOriginalMeansNoThirdPart) {
    DsnRequest request = request_with({failed_bob()});
    request.original = {};
    Parsed p = parse(build_dsn(request, kNow));
    EXPECT_EQ(p.parts.size(), 2u);
}

TEST(Dsn, BareLineEndsInTheOriginalBecomeCrlf) {
    DsnRequest request = request_with({failed_bob()});
    std::string original = "Subject: bare\nX-A: b\r\n\nbody\rmore\n";
    request.original = original;
    request.return_full = true;
    std::string dsn = build_dsn(request, kNow);
    expect_well_formed(dsn);
    Parsed p = parse(dsn);
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(p.parts[2].body, "Subject: bare\r\nX-A: b\r\n\r\nbody\r\nmore\r\n");

    request.return_full = false;
    p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(p.parts[2].body, "Subject: bare\r\nX-A: b\r\n");
}

TEST(Dsn, SmtpUtf8UsesGlobalTypes) {
    DsnRecipient r = failed_bob();
    r.final_recipient = "d\xC3\xB6rte@example.org";
    r.original_recipient = "utf-8;d\xC3\xB6rte@example.org";
    r.diagnostic = "550 5.1.1 d\xC3\xB6rte unknown";
    DsnRequest request = request_with({r, delayed_carol()});
    request.smtputf8 = true;
    request.return_full = true;
    std::string dsn = build_dsn(request, kNow);
    expect_well_formed(dsn);
    Parsed p = parse(dsn);
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.headers, "Content-Transfer-Encoding"), "8bit");
    EXPECT_EQ(field(p.parts[1].headers, "Content-Type"), "message/global-delivery-status");
    EXPECT_EQ(field(p.parts[1].headers, "Content-Transfer-Encoding"), "8bit");
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/global");
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(field(groups[1], "Final-Recipient"), "utf-8; d\xC3\xB6rte@example.org");
    EXPECT_EQ(field(groups[1], "Original-Recipient"), "utf-8; d\xC3\xB6rte@example.org");
    EXPECT_EQ(field(groups[1], "Diagnostic-Code"), "smtp; 550 5.1.1 d\xC3\xB6rte unknown");
    // An ASCII address keeps the rfc822 type (RFC 6533 section 3).
    EXPECT_EQ(field(groups[2], "Final-Recipient"), "rfc822; carol@example.net");
    EXPECT_NE(p.parts[0].body.find("<d\xC3\xB6rte@example.org>:"), std::string::npos);
    EXPECT_EQ(field(p.parts[0].headers, "Content-Transfer-Encoding"), "8bit");

    request.return_full = false;
    p = parse(build_dsn(request, kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/global-headers");
    EXPECT_EQ(p.parts[2].body, kOriginalHeaders);
}

TEST(Dsn, NonAsciiAddressWithoutSmtpUtf8IsEscaped) {
    // RFC 6533 utf-8-addr-xtext keeps message/delivery-status 7-bit.
    DsnRecipient r = failed_bob();
    r.final_recipient = "d\xC3\xB6rte+x=y@example.org";
    r.original_recipient = "utf-8;d\xC3\xB6rte+x=y@example.org";
    r.diagnostic = "550 d\xC3\xB6rte";
    Parsed p = parse(build_dsn(request_with({r}), kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[1].headers, "Content-Type"), "message/delivery-status");
    EXPECT_EQ(p.parts[1].headers.count("content-transfer-encoding"), 0u);
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(field(groups[1], "Final-Recipient"),
              "utf-8; d\\x{F6}rte\\x{2B}x\\x{3D}y@example.org");
    EXPECT_EQ(field(groups[1], "Original-Recipient"), "utf-8; d\\x{F6}rte+x=y@example.org");
    EXPECT_EQ(field(groups[1], "Diagnostic-Code"), "smtp; 550 d?rte");
}

TEST(Dsn, BoundaryOccursNowhereInTheContent) {
    DsnRequest request = request_with({failed_bob()});
    request.return_full = true;
    std::string original = kOriginal + "--=_tern_0123456789ABCDEF_\r\n=_tern_\r\n--\r\n";
    request.original = original;
    std::string dsn = build_dsn(request, kNow);
    Parsed p = parse(dsn);
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(original.find(p.boundary), std::string::npos);
    EXPECT_EQ(p.parts[2].body, original);
    for (const Part& part : p.parts)
        EXPECT_EQ(part.body.find(p.boundary), std::string::npos);

    // A diagnostic quoting the boundary cannot end a part early either.
    DsnRecipient r = failed_bob();
    r.diagnostic = "550 --" + p.boundary + "--";
    request.recipients = {r};
    std::string again = build_dsn(request, kNow);
    Parsed q = parse(again);
    ASSERT_EQ(q.parts.size(), 3u);
    EXPECT_NE(q.boundary, p.boundary);
    EXPECT_EQ(q.parts[2].body, original);
}

TEST(Dsn, NoHeaderInjectionFromPeerText) {
    DsnRecipient r = failed_bob();
    r.diagnostic = "550 no\r\nBcc: victim@example.net\r\n\r\n--fake\r\nbody";
    r.remote_mta = "mx.example.org\r\nX-Evil: 1";
    r.final_recipient = "bob@example.org\nX-Evil: 2";
    r.original_recipient = "rfc822;bob\r\n@example.org";
    DsnRequest request = request_with({r});
    request.to = "alice@example.com>\r\nBcc: victim@example.net";
    request.envelope_id = "id\r\n\r\nX-Evil: 3";
    request.reporting_mta = "mx.example.com\r\nX-Evil: 4";
    request.message_id = "<x@y>\r\nX-Evil: 5";
    std::string dsn = build_dsn(request, kNow);
    expect_well_formed(dsn);
    for (const char* bad : {"\r\nBcc:", "\r\nX-Evil", "\r\n--fake"}) {
        EXPECT_EQ(dsn.find(bad), std::string::npos) << bad << " in\n" << dsn;
    }
    Parsed p = parse(dsn);
    EXPECT_EQ(field(p.headers, "To"), "<alice@example.com? Bcc: victim@example.net>");
    EXPECT_EQ(field(p.headers, "Message-ID"),
              "<0123456789ABCDEF.1795608000.dsn@mx.example.comX-Evil4>");
    ASSERT_EQ(p.parts.size(), 3u);
    std::vector<Fields> groups = status_groups(p.parts[1].body);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(field(groups[1], "Diagnostic-Code"),
              "smtp; 550 no Bcc: victim@example.net --fake body");
    EXPECT_EQ(field(groups[1], "Final-Recipient"), "rfc822; bob@example.org X-Evil: 2");
    EXPECT_EQ(field(groups[1], "Original-Recipient"), "rfc822; bob @example.org");
}

TEST(Dsn, LongDiagnosticIsFolded) {
    DsnRecipient r = failed_bob();
    std::string diagnostic = "550-5.7.1 This message was rejected because";
    for (int i = 0; i < 30; ++i)
        diagnostic += " the sending host is listed";
    r.diagnostic = diagnostic;
    Parsed p = parse(build_dsn(request_with({r}), kNow));
    ASSERT_EQ(p.parts.size(), 3u);
    const std::string& body = p.parts[1].body;
    std::size_t start = 0;
    int lines = 0;
    while (start < body.size()) {
        std::size_t end = body.find("\r\n", start);
        EXPECT_LE(end - start, 78u) << body.substr(start, end - start);
        start = end + 2;
        ++lines;
    }
    EXPECT_GT(lines, 15);
    std::vector<Fields> groups = status_groups(body);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(field(groups[1], "Diagnostic-Code"), "smtp; " + diagnostic);
}

TEST(Dsn, RunawayTokenStaysUnderTheHardLimit) {
    DsnRecipient r = failed_bob();
    r.diagnostic = "550 " + std::string(3000, 'x');
    std::string dsn = build_dsn(request_with({r}), kNow);
    expect_well_formed(dsn);
    Parsed p = parse(dsn);
    ASSERT_EQ(p.parts.size(), 3u);
}

TEST(Dsn, MessageIdIsMadeWhenNotGiven) {
    DsnRequest request = request_with({failed_bob()});
    request.message_id.clear();
    request.from.clear();
    Parsed p = parse(build_dsn(request, kNow));
    std::string id = field(p.headers, "Message-ID");
    EXPECT_TRUE(id.starts_with("<") && id.ends_with("@mx.example.com>")) << id;
    EXPECT_EQ(field(p.headers, "From"), "Mail Delivery System <MAILER-DAEMON@mx.example.com>");
}

// Debian's Python email package reads the notice as a mail client would.
TEST(Dsn, PythonEmailParserAgrees) {
    const char* python = "/usr/bin/python3";
    if (access(python, X_OK) != 0) GTEST_SKIP() << "no " << python;
    DsnRequest request = request_with({failed_bob(), delayed_carol()});
    request.return_full = true;
    std::string dir = ::testing::TempDir();
    std::string dsn_path = dir + "/tern_dsn_test.eml";
    std::string script_path = dir + "/tern_dsn_test.py";
    std::ofstream(dsn_path, std::ios::binary) << build_dsn(request, kNow);
    std::ofstream(script_path) << R"(
import email, email.policy, sys
with open(sys.argv[1], 'rb') as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
def check(ok, what):
    if not ok:
        print('python:', what, file=sys.stderr)
        sys.exit(1)
check(msg.get_content_type() == 'multipart/report', msg.get_content_type())
check(msg.get_param('report-type') == 'delivery-status', 'report-type')
check(str(msg['Subject']) == 'Undelivered Mail Returned to Sender', msg['Subject'])
check(str(msg['Auto-Submitted']) == 'auto-replied', 'Auto-Submitted')
parts = msg.get_payload()
types = [p.get_content_type() for p in parts]
check(types == ['text/plain', 'message/delivery-status', 'message/rfc822'], types)
for part in msg.walk():
    check(not part.defects, (part.get_content_type(), part.defects))
groups = parts[1].get_payload()
check(len(groups) == 3, len(groups))
check(groups[0]['Reporting-MTA'] == 'dns; mx.example.com', groups[0]['Reporting-MTA'])
check(groups[1]['Action'] == 'failed' and groups[1]['Status'] == '5.1.1', 'group 1')
check(groups[2]['Action'] == 'delayed' and groups[2]['Will-Retry-Until'], 'group 2')
returned = parts[2].get_payload()[0]
check(str(returned['Subject']) == 'Lunch', 'returned Subject')
check('bob@example.org' in parts[0].get_content(), 'text names the recipient')
)";
    std::string command = std::string(python) + " " + script_path + " " + dsn_path;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::remove(dsn_path.c_str());
    std::remove(script_path.c_str());
}

}  // namespace
}  // namespace tern::message
