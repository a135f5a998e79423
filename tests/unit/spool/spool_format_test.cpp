// Unit tests of the spool file formats: envelope round trip, trailer checks, and the
// state-log lines that must reject torn or corrupt records.
#include "spool/spool_format.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace tern::spool {
namespace {

Message sample() {
    Message m;
    m.id = "0ABCDEFGHJKMNPQR";
    m.arrival = 1795588117;
    m.sender = "alice@example.com";
    m.body = smtp::BodyType::k8BitMime;
    m.smtputf8 = true;
    m.ret = smtp::DsnRet::kHeaders;
    m.envid = "env id+=1";
    m.client_ip = "192.0.2.1";
    m.helo = "client.example";
    m.protocol = "UTF8SMTPS";
    Recipient r;
    r.address = "bob@localhost";
    r.original = "Bob+tag@LocalHost";
    r.orcpt = "rfc822;bob@example.org";
    r.notify.success = true;
    r.notify.failure = true;
    m.recipients.push_back(r);
    Recipient s;
    s.address = "j\xC3\xB8rn@example.net";
    m.recipients.push_back(s);
    return m;
}

TEST(SpoolFormat, EnvelopeRoundTrip) {
    Message m = sample();
    auto back = decode_envelope(encode_envelope(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->id, m.id);
    EXPECT_EQ(back->arrival, m.arrival);
    EXPECT_EQ(back->sender, m.sender);
    EXPECT_EQ(back->body, m.body);
    EXPECT_TRUE(back->smtputf8);
    EXPECT_EQ(back->ret, m.ret);
    EXPECT_EQ(back->envid, m.envid);
    EXPECT_EQ(back->protocol, m.protocol);
    ASSERT_EQ(back->recipients.size(), 2u);
    EXPECT_EQ(back->recipients[0].original, "Bob+tag@LocalHost");
    EXPECT_EQ(back->recipients[0].orcpt, "rfc822;bob@example.org");
    EXPECT_EQ(back->recipients[0].notify, m.recipients[0].notify);
    EXPECT_EQ(back->recipients[1].address, m.recipients[1].address);
}

TEST(SpoolFormat, NullSenderRoundTrip) {
    Message m = sample();
    m.sender.clear();
    EXPECT_EQ(decode_envelope(encode_envelope(m))->sender, "");
}

TEST(SpoolFormat, RequireTlsRoundTrip) {
    Message m = sample();
    EXPECT_FALSE(decode_envelope(encode_envelope(m))->requiretls);
    m.requiretls = true;
    std::string block = encode_envelope(m);
    EXPECT_NE(block.find("\nrequiretls 1\n"), std::string::npos) << block;
    EXPECT_TRUE(decode_envelope(block)->requiretls);
}

// An envelope exactly as Tern wrote it before REQUIRETLS: it loads, and its message was not
// received with REQUIRETLS.
constexpr std::string_view kEnvelopeBeforeRequireTls =
    "TERN-SPOOL 1\n"
    "id 0ABCDEFGHJKMNPQR\n"
    "arrival 1795588117\n"
    "sender alice@example.com\n"
    "body 8bitmime\n"
    "smtputf8 0\n"
    "ret -\n"
    "envid -\n"
    "client_ip 192.0.2.1\n"
    "client_name -\n"
    "helo client.example\n"
    "auth_user -\n"
    "protocol ESMTPS\n"
    "rcpt bob@example.net bob@example.net - -\n"
    "end\n";

TEST(SpoolFormat, EnvelopeWithoutRequireTlsStillLoads) {
    auto m = decode_envelope(kEnvelopeBeforeRequireTls);
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->requiretls);
    EXPECT_EQ(m->sender, "alice@example.com");
    ASSERT_EQ(m->recipients.size(), 1u);
}

TEST(SpoolFormat, ForwardedRecipientsRoundTrip) {
    Message m = sample();
    EXPECT_EQ(encode_envelope(m).find("forwarded"), std::string::npos);  // format as before
    m.recipients[1].forwarded = true;
    std::string block = encode_envelope(m);
    EXPECT_NE(block.find("\nforwarded 1\nend\n"), std::string::npos) << block;
    auto back = decode_envelope(block);
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->recipients[0].forwarded);
    EXPECT_TRUE(back->recipients[1].forwarded);
}

TEST(SpoolFormat, EnvelopeWithoutForwardedLinesLoadsUnforwarded) {
    // Written before SRS: no recipient is forwarded, so every one keeps the original sender.
    auto m = decode_envelope(kEnvelopeBeforeRequireTls);
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->recipients[0].forwarded);
    // A line naming a recipient that does not exist makes the envelope malformed.
    std::string block(kEnvelopeBeforeRequireTls);
    block.insert(block.find("end\n"), "forwarded 1\n");
    EXPECT_FALSE(decode_envelope(block));
    block = std::string(kEnvelopeBeforeRequireTls);
    block.insert(block.find("end\n"), "forwarded x\n");
    EXPECT_FALSE(decode_envelope(block));
}

TEST(SpoolFormat, UnknownEnvelopeKeysAreSkipped) {
    // As this reader skips a later writer's keys, a reader from before REQUIRETLS skipped
    // "requiretls" (the same code path): the new key keeps old files and old readers working.
    std::string block(kEnvelopeBeforeRequireTls);
    block.insert(block.find("rcpt "), "requiretls 1\nx-later-key some+20value\n");
    auto m = decode_envelope(block);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->requiretls);
    EXPECT_EQ(m->recipients.size(), 1u);
}

TEST(SpoolFormat, AnUnreadableRequireTlsValueKeepsTheRequirement) {
    std::string block(kEnvelopeBeforeRequireTls);
    block.insert(block.find("rcpt "), "requiretls yes\n");
    EXPECT_TRUE(decode_envelope(block)->requiretls);
    block = std::string(kEnvelopeBeforeRequireTls);
    block.insert(block.find("rcpt "), "requiretls 0\n");
    EXPECT_FALSE(decode_envelope(block)->requiretls);
}

TEST(SpoolFormat, TruncatedEnvelopeIsRejected) {
    std::string block = encode_envelope(sample());
    for (std::size_t cut = 0; cut < block.size(); cut += 7)
        EXPECT_FALSE(decode_envelope(block.substr(0, cut))) << cut;
}

TEST(SpoolFormat, EditsBlockRoundTrip) {
    std::vector<message::HeaderEdit> edits{
        {message::HeaderEdit::Kind::kPrepend, 0, "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=x\r\n"},
        {message::HeaderEdit::Kind::kInsert, 3, "X-Spam: yes\r\n"},
        {message::HeaderEdit::Kind::kRemove, 7, ""},
    };
    std::string block = encode_edits(edits, -42);
    auto back = decode_edits(block);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->first, edits);
    EXPECT_EQ(back->second, -42);
    for (std::size_t cut = 0; cut < block.size(); ++cut)
        EXPECT_FALSE(decode_edits(block.substr(0, cut))) << cut;
    EXPECT_FALSE(decode_edits(block + "x"));
}

TEST(SpoolFormat, SecondTrailerFormat) {
    std::string t = encode_trailer2(100, 2000, 77, 0xfeedbeef);
    ASSERT_EQ(t.size(), kTrailer2Size);
    auto ok = decode_trailer(t);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->edits_length, 77u);
    EXPECT_EQ(ok->size, kTrailer2Size);
    EXPECT_EQ(ok->crc, 0xfeedbeefu);
    for (std::size_t i = 0; i < t.size(); ++i) {
        std::string bad = t;
        bad[i] ^= 0x01;
        EXPECT_FALSE(decode_trailer(bad)) << i;
    }
}

TEST(SpoolFormat, TrailerDetectsDamage) {
    std::string t = encode_trailer(100, 2000, 0xdeadbeef);
    ASSERT_EQ(t.size(), kTrailerSize);
    auto ok = decode_trailer(t);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->envelope_length, 100u);
    EXPECT_EQ(ok->body_length, 2000u);
    EXPECT_EQ(ok->crc, 0xdeadbeefu);
    for (std::size_t i = 0; i < t.size(); ++i) {
        std::string bad = t;
        bad[i] = static_cast<char>(bad[i] ^ 0x40);
        EXPECT_FALSE(decode_trailer(bad)) << i;
    }
    EXPECT_FALSE(decode_trailer(t.substr(1)));
}

TEST(SpoolFormat, StateLinesApplyLastWins) {
    Message m = sample();
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kDeferred;
    r.attempts = 2;
    r.next_attempt = 1795588999;
    r.reply = "451 4.3.0 try later";
    r.remote_host = "mx.example.org[192.0.2.9]";
    std::string line = encode_recipient_state(0, r);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_TRUE(apply_state_line(std::string_view(line).substr(0, line.size() - 1), m));
    EXPECT_EQ(m.recipients[0].status, RecipientStatus::kDeferred);
    EXPECT_EQ(m.recipients[0].attempts, 2u);
    EXPECT_EQ(m.recipients[0].reply, "451 4.3.0 try later");
    EXPECT_EQ(m.recipients[0].remote_host, "mx.example.org[192.0.2.9]");
    r.status = RecipientStatus::kDelivered;
    r.reported = true;
    line = encode_recipient_state(0, r);
    ASSERT_TRUE(apply_state_line(std::string_view(line).substr(0, line.size() - 1), m));
    EXPECT_TRUE(m.recipients[0].final());
    EXPECT_FALSE(m.complete());  // recipient 1 is still pending
}

TEST(SpoolFormat, WhoSaidTheReplyAndTheVerdictRoundTrip) {
    Message m = sample();
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kFailed;
    r.reply = "451 4.4.1 connect to mx.example.org[192.0.2.9]:25: Connection refused";
    r.remote_host = "mx.example.org[192.0.2.9]:25";
    r.from_host = false;
    r.verdict = "554 5.0.0 Message returned to sender by the postmaster";
    std::string line = encode_recipient_state(0, r);
    ASSERT_TRUE(apply_state_line(std::string_view(line).substr(0, line.size() - 1), m));
    EXPECT_FALSE(m.recipients[0].from_host);
    EXPECT_EQ(m.recipients[0].verdict, r.verdict);
    r.from_host = true;
    r.verdict.clear();
    line = encode_recipient_state(0, r);
    ASSERT_TRUE(apply_state_line(std::string_view(line).substr(0, line.size() - 1), m));
    EXPECT_TRUE(m.recipients[0].from_host);
    EXPECT_EQ(m.recipients[0].verdict, "");
}

TEST(SpoolFormat, StateLinesOfEarlierVersionsStillApply) {
    // Nine and ten fields, as older versions wrote them (no origin, no verdict): a reply with a
    // remote host is read as that host's, the old notices' reading.
    for (std::string record :
         {std::string("R 0 deferred 1 100 50 0 mx.example.org 451+204.3.0+20x"),
          std::string("R 0 deferred 1 100 50 0 mx.example.org 451+204.3.0+20x "
                      "ESMTP+20DATA")}) {
        Message m = sample();
        std::string line = record + fmt::format(" {:08x}", crc32_update(0, record));
        ASSERT_TRUE(apply_state_line(line, m)) << line;
        EXPECT_EQ(m.recipients[0].status, RecipientStatus::kDeferred);
        EXPECT_EQ(m.recipients[0].reply, "451 4.3.0 x");
        EXPECT_TRUE(m.recipients[0].from_host);
        EXPECT_EQ(m.recipients[0].verdict, "");
    }
}

TEST(SpoolFormat, TornAndCorruptStateLinesAreIgnored) {
    Message m = sample();
    Recipient r = m.recipients[0];
    r.status = RecipientStatus::kDelivered;
    std::string line = encode_recipient_state(0, r);
    line.pop_back();
    for (std::size_t cut = 0; cut < line.size(); ++cut)
        EXPECT_FALSE(apply_state_line(line.substr(0, cut), m));
    std::string corrupt = line;
    corrupt[2] = '1';  // another recipient index, CRC no longer matches
    EXPECT_FALSE(apply_state_line(corrupt, m));
    EXPECT_EQ(m.recipients[0].status, RecipientStatus::kPending);
    std::string unknown = encode_recipient_state(7, r);
    unknown.pop_back();
    EXPECT_FALSE(apply_state_line(unknown, m));
}

TEST(SpoolFormat, Flags) {
    Message m = sample();
    for (auto flag : {"hold", "warned"}) {
        std::string line = encode_flag(flag);
        line.pop_back();
        ASSERT_TRUE(apply_state_line(line, m));
    }
    EXPECT_TRUE(m.held);
    EXPECT_TRUE(m.delay_warned);
    std::string line = encode_flag("release");
    line.pop_back();
    ASSERT_TRUE(apply_state_line(line, m));
    EXPECT_FALSE(m.held);
}

}  // namespace
}  // namespace tern::spool
