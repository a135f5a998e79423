// Unit tests of the MIME composer: the part structure a reader sees, encodings that decode back
// to the input, folding limits, and that hostile input cannot add or split a header field.
#include "message/mime_builder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/base64.h"
#include "message/address_list.h"
#include "message/header_text.h"

namespace tern::message {
namespace {

using namespace std::chrono;
using namespace std::string_literals;

constexpr auto kWhen = sys_days{2026y / November / 25} + 10h;
const std::string kEmoji = "\xF0\x9F\x98\x80";  // U+1F600, four octets

Composition basic() {
    Composition c;
    c.from = {"Alice", "alice@example.com"};
    c.to = {{"", "bob@example.org"}};
    c.subject = "Hello";
    c.text = "Hi Bob.\r\n";
    c.message_id = "abc123@example.com";
    c.date = kWhen;
    return c;
}

std::string composed(const Composition& c) {
    auto msg = compose(c);
    EXPECT_TRUE(msg.has_value()) << (msg ? "" : msg.error().field + ": " + msg.error().message);
    return msg.value_or("");
}

ComposeError refused(const Composition& c) {
    auto msg = compose(c);
    EXPECT_FALSE(msg.has_value());
    return msg ? ComposeError{} : msg.error();
}

struct Entity {
    std::string headers;  // header lines, each ending in CRLF
    std::string body;
};

Entity split_entity(const std::string& text) {
    std::size_t end = text.find("\r\n\r\n");
    if (end == std::string::npos) return {text, ""};
    return {text.substr(0, end + 2), text.substr(end + 4)};
}

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find("\r\n", start);
        if (end == std::string_view::npos) end = text.size();
        lines.emplace_back(text.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

// The unfolded value of the first field called `name`, without the space after the colon.
std::string field(const std::string& headers, std::string_view name) {
    std::string value;
    bool in_field = false;
    for (const std::string& line : lines_of(headers)) {
        if (in_field && (line.starts_with(' ') || line.starts_with('\t'))) {
            value += line;
        } else if (in_field) {
            break;
        } else if (line.starts_with(std::string(name) + ":")) {
            in_field = true;
            value = line.substr(name.size() + 1);
        }
    }
    return value.starts_with(' ') ? value.substr(1) : value;
}

std::vector<std::string> field_names(const std::string& headers) {
    std::vector<std::string> names;
    for (const std::string& line : lines_of(headers)) {
        if (!line.starts_with(' ')) names.push_back(line.substr(0, line.find(':')));
    }
    return names;
}

std::string boundary_of(const std::string& headers) {
    std::string type = field(headers, "Content-Type");
    std::size_t at = type.find("boundary=\"");
    if (at == std::string::npos) return "";
    at += 10;
    return type.substr(at, type.find('"', at) - at);
}

// The child entities of a multipart entity. Content that held the boundary would show up as
// extra children, so the count checks that too.
std::vector<Entity> children(const Entity& e) {
    std::string delimiter = "\r\n--" + boundary_of(e.headers);
    std::string body = "\r\n" + e.body;
    std::vector<Entity> out;
    std::size_t at = body.find(delimiter);
    EXPECT_EQ(at, 0u);
    while (at != std::string::npos) {
        std::size_t start = at + delimiter.size();
        // A nested entity's body ends at "--" since the CRLF after it opens the parent's delimiter.
        if (body.compare(start, 2, "--") == 0) {
            EXPECT_TRUE(body.substr(start + 2).empty() || body.substr(start + 2) == "\r\n");
            break;
        }
        EXPECT_EQ(body.compare(start, 2, "\r\n"), 0);
        std::size_t next = body.find(delimiter, start);
        out.push_back(split_entity(body.substr(start + 2, next - start - 2)));
        at = next;
    }
    return out;
}

std::string decode_base64_body(const std::string& body) {
    std::string flat;
    for (char c : body) {
        if (c != '\r' && c != '\n') flat += c;
    }
    return base64_decode(flat).value_or("<invalid base64>");
}

std::string decode_words(std::string_view value) {
    auto encoded = [](std::string_view w) {
        return w.starts_with("=?utf-8?B?") && w.ends_with("?=");
    };
    std::string out;
    bool previous_encoded = false;
    bool first = true;
    while (!value.empty() || first) {
        std::size_t space = value.find(' ');
        std::string_view word = value.substr(0, space);
        value.remove_prefix(space == std::string_view::npos ? value.size() : space + 1);
        bool is_encoded = encoded(word);
        // RFC 2047 section 6.2: white space between adjacent encoded-words is not displayed.
        if (!first && !(previous_encoded && is_encoded)) out += ' ';
        if (is_encoded) {
            out += base64_decode(word.substr(10, word.size() - 12)).value_or("<invalid>");
        } else {
            out += word;
        }
        previous_encoded = is_encoded;
        first = false;
    }
    return out;
}

std::string decode_qp(std::string_view qp) {
    std::string out;
    for (std::size_t i = 0; i < qp.size(); ++i) {
        if (qp[i] != '=') {
            out += qp[i];
        } else if (qp.substr(i + 1, 2) == "\r\n") {
            i += 2;
        } else {
            out += static_cast<char>(std::stoi(std::string(qp.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        }
    }
    return out;
}

// Every line ends in CRLF, no bare CR or LF, the whole ends in CRLF, no line passes `limit`.
void expect_lines_within(const std::string& text, std::size_t limit) {
    ASSERT_TRUE(text.ends_with("\r\n"));
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            EXPECT_EQ(text[i + 1], '\n') << "bare CR at " << i;
        }
        if (text[i] == '\n') {
            EXPECT_EQ(text[i - 1], '\r') << "bare LF at " << i;
        }
    }
    for (const std::string& line : lines_of(text))
        EXPECT_LE(line.size(), limit) << line;
}

TEST(MimeCompose, TextOnlyIsOneTextPartAfterTheFieldsInOrder) {
    Composition c = basic();
    c.cc = {{"", "carol@example.org"}};
    c.reply_to = {{"", "help@example.com"}};
    c.headers = {{"X-Campaign", "spring"}};
    std::string msg = composed(c);
    expect_lines_within(msg, 78);
    Entity e = split_entity(msg);
    EXPECT_EQ(field_names(e.headers),
              (std::vector<std::string>{"Date", "From", "Reply-To", "To", "Cc", "Subject",
                                        "Message-ID", "MIME-Version", "X-Campaign", "Content-Type",
                                        "Content-Transfer-Encoding"}));
    EXPECT_EQ(field(e.headers, "Date"), "Wed, 25 Nov 2026 10:00:00 +0000");
    EXPECT_EQ(field(e.headers, "From"), "Alice <alice@example.com>");
    EXPECT_EQ(field(e.headers, "To"), "bob@example.org");
    EXPECT_EQ(field(e.headers, "Message-ID"), "<abc123@example.com>");
    EXPECT_EQ(field(e.headers, "MIME-Version"), "1.0");
    EXPECT_EQ(field(e.headers, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(field(e.headers, "Content-Transfer-Encoding"), "7bit");
    EXPECT_EQ(e.body, "Hi Bob.\r\n");
}

TEST(MimeCompose, NoRecipientsInToGiveAnEmptyGroup) {
    Composition c = basic();
    c.to.clear();
    Entity e = split_entity(composed(c));
    EXPECT_EQ(field(e.headers, "To"), "undisclosed-recipients:;");
    EXPECT_EQ(e.headers.find("Bcc"), std::string::npos);
}

TEST(MimeCompose, HtmlOnlyIsOneHtmlPart) {
    Composition c = basic();
    c.text.clear();
    c.html = "<p>Hi</p>";
    Entity e = split_entity(composed(c));
    EXPECT_EQ(field(e.headers, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(e.body, "<p>Hi</p>\r\n");
}

TEST(MimeCompose, TextAndHtmlAreAlternativesWithHtmlLast) {
    Composition c = basic();
    c.html = "<p>Hi Bob.</p>";
    std::string msg = composed(c);
    expect_lines_within(msg, 78);
    Entity e = split_entity(msg);
    EXPECT_TRUE(field(e.headers, "Content-Type").starts_with("multipart/alternative;"));
    EXPECT_TRUE(boundary_of(e.headers).starts_with("=_tern_"));
    EXPECT_EQ(boundary_of(e.headers).size(), 7u + 24u);
    auto parts = children(e);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(field(parts[0].headers, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(parts[0].body, "Hi Bob.\r\n");
    EXPECT_EQ(field(parts[1].headers, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(parts[1].body, "<p>Hi Bob.</p>\r\n");
}

TEST(MimeCompose, AttachmentsGoInMixedAsBase64ThatDecodesBack) {
    Composition c = basic();
    std::string binary;
    for (int i = 0; i < 1000; ++i)
        binary += static_cast<char>(i * 7 % 256);
    c.attachments = {{"report.pdf", "application/pdf", binary, false, ""}, {"", "", "", false, ""}};
    std::string msg = composed(c);
    expect_lines_within(msg, 78);
    Entity e = split_entity(msg);
    EXPECT_TRUE(field(e.headers, "Content-Type").starts_with("multipart/mixed;"));
    auto parts = children(e);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(field(parts[0].headers, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(field(parts[1].headers, "Content-Type"), "application/pdf; name=\"report.pdf\"");
    EXPECT_EQ(field(parts[1].headers, "Content-Disposition"),
              "attachment; filename=\"report.pdf\"");
    EXPECT_EQ(field(parts[1].headers, "Content-Transfer-Encoding"), "base64");
    EXPECT_EQ(decode_base64_body(parts[1].body), binary);
    EXPECT_EQ(field(parts[2].headers, "Content-Type"), "application/octet-stream");
    EXPECT_EQ(field(parts[2].headers, "Content-Disposition"), "attachment");
    EXPECT_EQ(decode_base64_body(parts[2].body), "");
}

TEST(MimeCompose, InlineImageIsRelatedToTheHtmlAlternative) {
    Composition c = basic();
    c.html = "<img src=\"cid:logo@example.com\">";
    c.attachments = {{"logo.png", "image/png", "\x89PNG\r\n", true, "logo@example.com"},
                     {"a.txt", "text/plain", "file", false, ""}};
    Entity e = split_entity(composed(c));
    auto mixed = children(e);
    ASSERT_EQ(mixed.size(), 2u);
    EXPECT_EQ(field(mixed[1].headers, "Content-Disposition"), "attachment; filename=\"a.txt\"");
    EXPECT_TRUE(field(mixed[0].headers, "Content-Type").starts_with("multipart/alternative;"));
    auto alternative = children(mixed[0]);
    ASSERT_EQ(alternative.size(), 2u);
    EXPECT_EQ(field(alternative[0].headers, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(field(alternative[1].headers, "Content-Type")
                    .starts_with("multipart/related; type=\"text/html\";"));
    auto related = children(alternative[1]);
    ASSERT_EQ(related.size(), 2u);
    EXPECT_EQ(field(related[0].headers, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(field(related[1].headers, "Content-ID"), "<logo@example.com>");
    EXPECT_EQ(field(related[1].headers, "Content-Disposition"), "inline; filename=\"logo.png\"");
    EXPECT_EQ(decode_base64_body(related[1].body), "\x89PNG\r\n");
}

TEST(MimeCompose, InlinePartWithHtmlOnlyWrapsTheHtml) {
    Composition c = basic();
    c.text.clear();
    c.html = "<img src=\"cid:x\">";
    c.attachments = {{"", "image/gif", "GIF89a", true, "x"}};
    Entity e = split_entity(composed(c));
    EXPECT_TRUE(
        field(e.headers, "Content-Type").starts_with("multipart/related; type=\"text/html\";"));
    auto related = children(e);
    ASSERT_EQ(related.size(), 2u);
    EXPECT_EQ(field(related[0].headers, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(field(related[1].headers, "Content-Disposition"), "inline");
}

TEST(MimeCompose, InlinePartWithoutHtmlIsAnAttachment) {
    Composition c = basic();
    c.attachments = {{"logo.png", "image/png", "png", true, "logo"}};
    Entity e = split_entity(composed(c));
    EXPECT_TRUE(field(e.headers, "Content-Type").starts_with("multipart/mixed;"));
    auto parts = children(e);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(field(parts[1].headers, "Content-Disposition"), "attachment; filename=\"logo.png\"");
    EXPECT_EQ(field(parts[1].headers, "Content-ID"), "");
}

TEST(MimeCompose, EmojiSubjectIsEncodedAndLongSubjectFolded) {
    Composition c = basic();
    c.subject =
        "Gr\xC3\xBC\xC3\x9F"
        "e " +
        kEmoji + " ";
    for (int i = 0; i < 12; ++i)
        c.subject += "caf\xC3\xA9 " + kEmoji + " ";
    c.subject += "end";
    std::string msg = composed(c);
    expect_lines_within(msg, 78);
    Entity e = split_entity(msg);
    std::string subject = field(e.headers, "Subject");
    EXPECT_EQ(decode_words(subject), c.subject);
    for (std::size_t start = 0, space = 0; space != std::string::npos; start = space + 1) {
        space = subject.find(' ', start);
        std::string word = subject.substr(start, space - start);
        EXPECT_LE(word.size(), 75u);
        // Each word on its own decodes to whole characters: no UTF-8 sequence is split.
        EXPECT_TRUE(is_utf8(decode_words(word))) << word;
    }
}

TEST(MimeCompose, DisplayNamesQuotedOrEncodedAsNeeded) {
    Composition c = basic();
    c.from = {"J. R. R. Tolkien", "jrr@example.com"};
    c.to = {{"Doe, John", "john@example.org"},
            {"Say \"hi\" \\ now", "say@example.org"},
            {"Plain Name", "plain@example.org"},
            {"J\xC3\xBCrgen M\xC3\xBCller", "jm@example.org"},
            {"", "bare@example.org"}};
    std::string msg = composed(c);
    expect_lines_within(msg, 78);
    Entity e = split_entity(msg);
    EXPECT_EQ(field(e.headers, "From"), "\"J. R. R. Tolkien\" <jrr@example.com>");
    std::string to = field(e.headers, "To");
    EXPECT_NE(to.find("\"Doe, John\" <john@example.org>"), std::string::npos) << to;
    EXPECT_NE(to.find(R"("Say \"hi\" \\ now" <say@example.org>)"), std::string::npos) << to;
    EXPECT_NE(to.find("Plain Name <plain@example.org>"), std::string::npos) << to;
    EXPECT_NE(to.find("=?utf-8?B?"), std::string::npos) << to;
    EXPECT_TRUE(to.ends_with(", bare@example.org")) << to;
    EXPECT_NE(decode_words(to).find("J\xC3\xBCrgen M\xC3\xBCller <jm@example.org>"),
              std::string::npos);
    AddressList list = parse_address_list(to);
    EXPECT_EQ(list.addresses,
              (std::vector<std::string>{"john@example.org", "say@example.org", "plain@example.org",
                                        "jm@example.org", "bare@example.org"}));
    EXPECT_TRUE(list.invalid.empty());
}

TEST(MimeCompose, NonAsciiFilenameUsesRfc2231AndAnEncodedName) {
    Composition c = basic();
    c.attachments = {{"r\xC3\xA9sum\xC3\xA9 2026.pdf", "application/pdf", "x", false, ""}};
    Entity e = split_entity(composed(c));
    auto parts = children(e);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(field(parts[1].headers, "Content-Disposition"),
              "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%202026.pdf");
    std::string type = field(parts[1].headers, "Content-Type");
    ASSERT_TRUE(type.starts_with("application/pdf; name=\"=?utf-8?B?")) << type;
    std::string words = type.substr(type.find('"') + 1);
    words.pop_back();
    EXPECT_EQ(decode_words(words), c.attachments[0].filename);
}

TEST(MimeCompose, AsciiFilenameQuotesAreEscaped) {
    Composition c = basic();
    c.attachments = {{"a \"b\" \\c.txt", "text/plain", "x", false, ""}};
    auto parts = children(split_entity(composed(c)));
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(field(parts[1].headers, "Content-Disposition"),
              R"(attachment; filename="a \"b\" \\c.txt")");
}

TEST(MimeCompose, TextBodiesNormaliseLineEndsAndChooseTheirEncoding) {
    Composition c = basic();
    c.text = "one\ntwo\rthree\r\nfour";
    Entity e = split_entity(composed(c));
    EXPECT_EQ(field(e.headers, "Content-Transfer-Encoding"), "7bit");
    EXPECT_EQ(e.body, "one\r\ntwo\r\nthree\r\nfour\r\n");

    c.text =
        "Gr\xC3\xBC\xC3\x9F"
        "e\n";
    e = split_entity(composed(c));
    EXPECT_EQ(field(e.headers, "Content-Transfer-Encoding"), "quoted-printable");
    EXPECT_EQ(e.body, "Gr=C3=BC=C3=9Fe\r\n");

    c.text = std::string(1200, 'a');
    std::string msg = composed(c);
    expect_lines_within(msg, 76);
    e = split_entity(msg);
    EXPECT_EQ(field(e.headers, "Content-Transfer-Encoding"), "quoted-printable");
    EXPECT_EQ(decode_qp(e.body), c.text + "\r\n");
}

TEST(MimeCompose, ExtraHeadersNonAsciiValuesEncoded) {
    Composition c = basic();
    c.headers = {{"List-Unsubscribe", "<https://example.com/u/1>, <mailto:u@example.com>"},
                 {"X-Note", "caf\xC3\xA9"}};
    Entity e = split_entity(composed(c));
    EXPECT_EQ(field(e.headers, "List-Unsubscribe"),
              "<https://example.com/u/1>, <mailto:u@example.com>");
    EXPECT_EQ(field(e.headers, "X-Note"), "=?utf-8?B?Y2Fmw6k=?=");
}

TEST(MimeCompose, LineBreaksInHeaderInputsAreRefusedByField) {
    struct Case {
        void (*spoil)(Composition&);
        std::string field;
    };
    const std::vector<Case> cases = {
        {[](Composition& c) { c.subject = "Hi\r\nBcc: victim@example.net"; }, "subject"},
        {[](Composition& c) { c.subject = "Hi\nthere"; }, "subject"},
        {[](Composition& c) { c.subject = "Hi\0"s; }, "subject"},
        {[](Composition& c) { c.from.name = "Alice\r\nX-Evil: 1"; }, "from.name"},
        {[](Composition& c) { c.from.address = "a@x\r\n"; }, "from.address"},
        {[](Composition& c) {
             c.to = {{"", "b@x"}, {"C\r", "c@x"}};
         },
         "to[1].name"},
        {[](Composition& c) {
             c.cc = {{"", "c@x\n"}};
         },
         "cc[0].address"},
        {[](Composition& c) {
             c.reply_to = {{"R\n", "r@x"}};
         },
         "reply_to[0].name"},
        {[](Composition& c) {
             c.headers = {{"X-Foo", "a\r\nb"}};
         },
         "headers.X-Foo"},
        {[](Composition& c) {
             c.attachments = {{"a\r\n.txt", "", "", false, ""}};
         },
         "attachments[0].filename"},
        {[](Composition& c) {
             c.attachments = {{"a", "", "", false, ""}, {"b", "text/plain\r\n", "", false, ""}};
         },
         "attachments[1].content_type"},
        {[](Composition& c) {
             c.html = "<p>";
             c.attachments = {{"", "image/png", "", true, "x\r\ny"}};
         },
         "attachments[0].content_id"},
        {[](Composition& c) { c.message_id = "a\r\n@b"; }, "message_id"},
    };
    for (const Case& k : cases) {
        Composition c = basic();
        k.spoil(c);
        EXPECT_EQ(refused(c).field, k.field);
    }
}

TEST(MimeCompose, OwnedAndMalformedHeaderNamesAreRefused) {
    for (std::string name : {"From", "bcc", "CONTENT-TYPE", "Content-Disposition", "Message-Id",
                             "mime-version", "Reply-To", "Date", "To", "Cc", "Subject"}) {
        Composition c = basic();
        c.headers = {{"X-Ok", "1"}, {name, "x"}};
        ComposeError error = refused(c);
        EXPECT_EQ(error.field, "headers." + name);
        EXPECT_NE(error.message.find("composer"), std::string::npos);
    }
    for (std::string name : {""s, "X Foo"s, "X:Foo"s, "X-\xC3\xA9"s, std::string(77, 'X')}) {
        Composition c = basic();
        c.headers = {{name, "x"}};
        EXPECT_EQ(refused(c).field, "headers[0]") << name;
    }
    Composition c = basic();
    c.headers = {{std::string(76, 'X'), "x"}};
    EXPECT_TRUE(compose(c).has_value());
}

TEST(MimeCompose, MissingBodySenderOrBadTypeAreRefused) {
    Composition c = basic();
    c.text.clear();
    ComposeError error = refused(c);
    EXPECT_EQ(error.field, "text");
    EXPECT_EQ(error.message, "a text or html body is required");

    c = basic();
    c.from.address.clear();
    EXPECT_EQ(refused(c).field, "from");

    for (std::string type : {"pdf", "application/", "/pdf", "application/pdf; x=y", "a b/c",
                             "multipart/mixed", "Message/rfc822"}) {
        c = basic();
        c.attachments = {{"f", type, "x", false, ""}};
        EXPECT_EQ(refused(c).field, "attachments[0].content_type") << type;
    }

    c = basic();
    c.html = "<img src=\"cid:\">";
    c.attachments = {{"i.png", "image/png", "x", true, ""}};
    EXPECT_EQ(refused(c).field, "attachments[0].content_id");

    c = basic();
    c.message_id = "two words@example.com";
    EXPECT_EQ(refused(c).field, "message_id");

    c = basic();
    c.text = "\xFF";
    EXPECT_EQ(refused(c).field, "text");
}

TEST(MimeCompose, BoundariesNeverOccurInTheContent) {
    Composition c = basic();
    std::string lure;
    for (int i = 0; i < 50; ++i)
        lure += "--=_tern_" + std::string(24, 'a' + i % 6) + "\r\n";
    c.text = lure;
    c.html = lure;
    c.attachments = {{"lure.txt", "text/plain", lure, true, "lure"},
                     {"=_tern_.txt", "text/plain", lure, false, ""}};
    std::string msg = composed(c);
    Entity e = split_entity(msg);
    auto mixed = children(e);
    ASSERT_EQ(mixed.size(), 2u);
    auto alternative = children(mixed[0]);
    ASSERT_EQ(alternative.size(), 2u);
    EXPECT_EQ(alternative[0].body, lure);
    auto related = children(alternative[1]);
    ASSERT_EQ(related.size(), 2u);
    for (const Entity* m : {&e, &mixed[0], &alternative[1]}) {
        std::string b = boundary_of(m->headers);
        std::size_t count = 0;
        for (std::size_t at = msg.find(b); at != std::string::npos; at = msg.find(b, at + 1))
            ++count;
        EXPECT_EQ(count, children(*m).size() + 2) << b;  // the header, each delimiter, the close
    }
}

TEST(MimeEncodeWords, AsciiStaysAndEverythingElseIsEncoded) {
    EXPECT_EQ(encode_words("Hello world"), "Hello world");
    EXPECT_EQ(encode_words(""), "");
    EXPECT_EQ(encode_words("caf\xC3\xA9"), "=?utf-8?B?Y2Fmw6k=?=");
    // Text that folding or a decoder would change is encoded too.
    for (std::string tricky :
         {"a  b"s, " a"s, "=?utf-8?B?QQ==?="s, "tab\there"s, std::string(80, 'x')})
        EXPECT_EQ(decode_words(encode_words(tricky)), tricky);
    EXPECT_TRUE(encode_words("a  b").starts_with("=?utf-8?B?"));
}

TEST(MimeEncodeWords, LongTextSplitsBetweenCharacters) {
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += kEmoji + "\xC3\xA9";
    std::string words = encode_words(text);
    EXPECT_EQ(decode_words(words), text);
    for (std::size_t start = 0, space = 0; space != std::string::npos; start = space + 1) {
        space = words.find(' ', start);
        std::string word = words.substr(start, space - start);
        EXPECT_LE(word.size(), 75u);
        EXPECT_TRUE(is_utf8(decode_words(word))) << word;
    }
}

TEST(MimeQuotedPrintable, EncodesEqualsTrailingBlanksAndEightBit) {
    EXPECT_EQ(quoted_printable("a=b"), "a=3Db");
    EXPECT_EQ(quoted_printable("end \r\ntab\t\r\nmid dle "), "end=20\r\ntab=09\r\nmid dle=20");
    EXPECT_EQ(quoted_printable("\xC3\xA9\r\n"), "=C3=A9\r\n");
    EXPECT_EQ(quoted_printable("bare\nlf"), "bare=0Alf");
    EXPECT_EQ(quoted_printable(""), "");
}

TEST(MimeQuotedPrintable, LongLinesGetSoftBreaksWithinSeventySix) {
    EXPECT_EQ(quoted_printable(std::string(76, 'a')), std::string(76, 'a'));
    EXPECT_EQ(quoted_printable(std::string(77, 'a')), std::string(75, 'a') + "=\r\n" + "aa");
    std::string input;
    for (int i = 0; i < 300; ++i)
        input += i % 10 == 0 ? "= " : "x\xC3\xA9";
    input += "  \r\n" + std::string(200, '=') + "\r\n";
    std::string qp = quoted_printable(input);
    expect_lines_within(qp, 76);
    EXPECT_EQ(qp.find("=_"), std::string::npos);
    EXPECT_EQ(decode_qp(qp), input);
    for (const std::string& line : lines_of(qp)) {
        EXPECT_FALSE(line.ends_with(' ')) << line;
        // A soft break never cuts an =XX triplet.
        std::size_t eq = line.rfind('=');
        if (eq != std::string::npos && eq + 1 < line.size()) {
            EXPECT_LE(eq + 3, line.size());
        }
    }
}

TEST(MimeBase64Lines, SeventySixCharacterLines) {
    EXPECT_EQ(base64_lines(""), "");
    EXPECT_EQ(base64_lines("foob"), "Zm9vYg==\r\n");
    std::string data(200, '\xAB');
    std::string lines = base64_lines(data);
    auto split = lines_of(lines);
    ASSERT_EQ(split.size(), 4u);
    EXPECT_EQ(split[0].size(), 76u);
    EXPECT_EQ(split[2].size(), 76u);
    EXPECT_EQ(split[3].size(), 268u - 228u);
    EXPECT_EQ(decode_base64_body(lines), data);
}

}  // namespace
}  // namespace tern::message
