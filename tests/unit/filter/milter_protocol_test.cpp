// Milter codec: every command's frame octet by octet, every response decoded, frames split at
// every position, and the refusals (oversize, zero length, unknown and malformed responses).
#include "filter/milter_protocol.h"

#include <gtest/gtest.h>

namespace tern::filter::milter {
namespace {

using namespace std::string_literals;
using Kind = Response::Kind;

std::string u32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

std::string raw(char command, std::string_view data) {
    return u32(static_cast<std::uint32_t>(data.size() + 1)) + command + std::string(data);
}

TEST(MilterEncode, OptionNegotiation) {
    EXPECT_EQ(encode_optneg(6, 0x1ff, 0x1fffff), raw('O', u32(6) + u32(0x1ff) + u32(0x1fffff)));
}

TEST(MilterEncode, ConnectInet4AndInet6AndUnknown) {
    EXPECT_EQ(encode_connect("mail.example.org", Family::kInet4, 25, "192.0.2.1"),
              raw('C', "mail.example.org\0"s + "4" + "\x00\x19"s + "192.0.2.1\0"s));
    EXPECT_EQ(encode_connect("[2001:db8::1]", Family::kInet6, 587, "2001:db8::1"),
              raw('C', "[2001:db8::1]\0"s + "6" + "\x02\x4b"s + "2001:db8::1\0"s));
    EXPECT_EQ(encode_connect("localhost", Family::kUnknown, 0, ""), raw('C', "localhost\0U"s));
}

TEST(MilterEncode, EnvelopeCommands) {
    EXPECT_EQ(encode_helo("client.example"), raw('H', "client.example\0"s));
    EXPECT_EQ(encode_mail({"<a@example.org>", "SIZE=100"}),
              raw('M', "<a@example.org>\0SIZE=100\0"s));
    EXPECT_EQ(encode_rcpt({"<b@example.net>"}), raw('R', "<b@example.net>\0"s));
    EXPECT_EQ(encode_data(), raw('T', ""));
}

TEST(MilterEncode, HeaderAndEndOfHeaders) {
    EXPECT_EQ(encode_header("Subject", "hi\n there"), raw('L', "Subject\0hi\n there\0"s));
    EXPECT_EQ(encode_end_of_headers(), raw('N', ""));
}

TEST(MilterEncode, BodyInChunksOfAtMost65535) {
    std::string body(65535 * 2 + 10, 'x');
    std::string out;
    encode_body(body, out);
    std::string want = raw('B', std::string(65535, 'x')) + raw('B', std::string(65535, 'x')) +
                       raw('B', std::string(10, 'x'));
    EXPECT_EQ(out, want);
    std::string none;
    encode_body("", none);
    EXPECT_EQ(none, "");
}

TEST(MilterEncode, EndAbortQuit) {
    EXPECT_EQ(encode_end_of_body(), raw('E', ""));
    EXPECT_EQ(encode_abort(), raw('A', ""));
    EXPECT_EQ(encode_quit(), raw('Q', ""));
    EXPECT_EQ(encode_quit_new_connection(), raw('K', ""));
}

TEST(MilterEncode, Macros) {
    EXPECT_EQ(encode_macros(Command::kConnect, {{"j", "mx.example"}, {"{daemon_name}", "tern"}}),
              raw('D', "Cj\0mx.example\0{daemon_name}\0tern\0"s));
    EXPECT_EQ(encode_macros(Command::kEndOfBody, {}), raw('D', "E"));
}

Response decode_one(std::string_view bytes) {
    FrameDecoder d(1 << 20);
    d.feed(bytes);
    auto r = d.next();
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    if (!r || !*r) return {};
    return **r;
}

TEST(MilterDecode, SimpleResponses) {
    for (char c : {'4', 'a', 'c', 'd', 'f', 'p', 'r', 's', 't'}) {
        Response r = decode_one(raw(c, ""));
        EXPECT_EQ(static_cast<char>(r.kind), c);
    }
}

TEST(MilterDecode, ReplyCodeAndQuarantine) {
    Response r = decode_one(raw('y', "550 5.7.1 Spam\0"s));
    EXPECT_EQ(r.kind, Kind::kReplyCode);
    EXPECT_EQ(r.text, "550 5.7.1 Spam");
    r = decode_one(raw('q', "looks odd\0"s));
    EXPECT_EQ(r.kind, Kind::kQuarantine);
    EXPECT_EQ(r.text, "looks odd");
}

TEST(MilterDecode, HeaderModifications) {
    Response r = decode_one(raw('h', "X-Spam\0yes\0"s));
    EXPECT_EQ(r.kind, Kind::kAddHeader);
    EXPECT_EQ(r.text, "X-Spam");
    EXPECT_EQ(r.value, "yes");
    r = decode_one(raw('i', u32(1) + "X-First\0one\0"s));
    EXPECT_EQ(r.kind, Kind::kInsertHeader);
    EXPECT_EQ(r.index, 1u);
    EXPECT_EQ(r.text, "X-First");
    r = decode_one(raw('m', u32(2) + "Subject\0\0"s));
    EXPECT_EQ(r.kind, Kind::kChangeHeader);
    EXPECT_EQ(r.index, 2u);
    EXPECT_EQ(r.value, "");
}

TEST(MilterDecode, EnvelopeModificationsAndBody) {
    Response r = decode_one(raw('+', "<new@example.org>\0"s));
    EXPECT_EQ(r.kind, Kind::kAddRecipient);
    EXPECT_EQ(r.text, "<new@example.org>");
    r = decode_one(raw('-', "<old@example.org>\0"s));
    EXPECT_EQ(r.kind, Kind::kDeleteRecipient);
    r = decode_one(raw('2', "<p@example.org>\0NOTIFY=NEVER\0"s));
    EXPECT_EQ(r.kind, Kind::kAddRecipientWithArgs);
    EXPECT_EQ(r.value, "NOTIFY=NEVER");
    r = decode_one(raw('e', "<s@example.org>\0"s));
    EXPECT_EQ(r.kind, Kind::kChangeFrom);
    EXPECT_EQ(r.text, "<s@example.org>");
    EXPECT_EQ(r.value, "");
    r = decode_one(raw('b', "new body\r\n\0bytes"s));
    EXPECT_EQ(r.kind, Kind::kReplaceBody);
    EXPECT_EQ(r.value, "new body\r\n\0bytes"s);
}

TEST(MilterDecode, NegotiationWithMacroLists) {
    Response r =
        decode_one(raw('O', u32(6) + u32(0x31) + u32(0x1ff080) + u32(5) + "i {rcpt_addr}\0"s));
    EXPECT_EQ(r.kind, Kind::kOptionNegotiation);
    EXPECT_EQ(r.version, 6u);
    EXPECT_EQ(r.actions, 0x31u);
    EXPECT_EQ(r.steps, 0x1ff080u);
    ASSERT_EQ(r.macro_lists.size(), 1u);
    EXPECT_EQ(r.macro_lists[0].first, 5u);
    EXPECT_EQ(r.macro_lists[0].second, "i {rcpt_addr}");
}

TEST(MilterDecode, MalformedResponsesAreRefused) {
    EXPECT_FALSE(decode_response('c', "x"));           // data where none belongs
    EXPECT_FALSE(decode_response('y', "550 no nul"));  // unterminated
    EXPECT_FALSE(decode_response('y', "550 a\0b\0"s));
    EXPECT_FALSE(decode_response('h', "X-Only\0"s));
    EXPECT_FALSE(decode_response('i', "\0\0"s));  // no index
    EXPECT_FALSE(decode_response('O', u32(6) + u32(0)));
    EXPECT_FALSE(decode_response('O', u32(6) + u32(0) + u32(0) + u32(1) + "unterminated"));
    EXPECT_FALSE(decode_response('e', "<a@b>\0args\0more\0"s));
    auto e = decode_response('Z', "");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("unknown response"), std::string::npos);
}

TEST(MilterDecode, EverySplitGivesTheSameResponses) {
    std::string stream = raw('p', "") + raw('h', "X-A\0one\0"s) + raw('i', u32(1) + "X-B\0two\0"s) +
                         raw('y', "451 4.7.1 later\0"s) + raw('c', "");
    std::vector<Response> whole;
    {
        FrameDecoder d(1024);
        d.feed(stream);
        while (auto r = d.next()) {
            if (!*r) break;
            whole.push_back(**r);
        }
    }
    ASSERT_EQ(whole.size(), 5u);
    for (std::size_t a = 0; a <= stream.size(); ++a) {
        for (std::size_t b = a; b <= stream.size(); b += 7) {
            FrameDecoder d(1024);
            std::vector<Response> got;
            for (std::string_view piece :
                 {std::string_view(stream).substr(0, a), std::string_view(stream).substr(a, b - a),
                  std::string_view(stream).substr(b)}) {
                d.feed(piece);
                while (true) {
                    auto r = d.next();
                    ASSERT_TRUE(r) << r.error().message;
                    if (!*r) break;
                    got.push_back(**r);
                }
            }
            EXPECT_EQ(got, whole) << "split at " << a << "," << b;
        }
    }
}

TEST(MilterDecode, OneOctetAtATime) {
    std::string stream = raw('y', "550 5.7.1 no\0"s) + raw('a', "");
    FrameDecoder d(64);
    std::vector<Response> got;
    for (char c : stream) {
        d.feed(std::string_view(&c, 1));
        auto r = d.next();
        ASSERT_TRUE(r);
        if (*r) got.push_back(**r);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, Kind::kReplyCode);
    EXPECT_EQ(got[1].kind, Kind::kAccept);
}

TEST(MilterDecode, OversizeFrameIsRefusedBeforeItArrives) {
    FrameDecoder d(100);
    d.feed(u32(102));  // 101 octets of data announced
    auto r = d.next();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("over the limit of 100"), std::string::npos);
    d.feed(raw('c', ""));
    EXPECT_FALSE(d.next());  // stays broken
    FrameDecoder exact(100);
    exact.feed(raw('b', std::string(100, 'x')));
    auto ok = exact.next();
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok->has_value());
}

TEST(MilterDecode, GarbageIsRefused) {
    FrameDecoder zero(100);
    zero.feed(u32(0));
    EXPECT_FALSE(zero.next());
    FrameDecoder text(1 << 20);
    text.feed("HTTP/1.1 400 Bad Request\r\n\r\n");  // "HTTP" is a length of 1.2 GB
    EXPECT_FALSE(text.next());
    FrameDecoder unknown(100);
    unknown.feed(raw('Z', ""));
    EXPECT_FALSE(unknown.next());
}

TEST(MilterReplyCode, ParsesCodeStatusAndText) {
    auto r = parse_reply_code("550 5.7.1 Rejected as spam");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, 550);
    EXPECT_EQ(r->status, "5.7.1");
    EXPECT_EQ(r->text, "Rejected as spam");
    r = parse_reply_code("451 Try later");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, "");
    EXPECT_EQ(r->text, "Try later");
    r = parse_reply_code("554-5.7.1 first\r\n554 5.7.1 second");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->text, "first\nsecond");
    EXPECT_TRUE(parse_reply_code("421"));
}

TEST(MilterReplyCode, RefusesWhatIsNotAFailureReply) {
    EXPECT_FALSE(parse_reply_code("250 ok"));
    EXPECT_FALSE(parse_reply_code("55"));
    EXPECT_FALSE(parse_reply_code("550x5.7.1"));
    EXPECT_FALSE(parse_reply_code("550 bad\rtext"));
    EXPECT_FALSE(parse_reply_code("550-one\r\n451 two"));
    EXPECT_FALSE(parse_reply_code("550 one\r\n550 two"));  // a last line before the end
}

}  // namespace
}  // namespace tern::filter::milter
