// Parsers for SMTP command lines; every refusal carries the reply RFC 5321 assigns to it.
// Input is untrusted client text without its CRLF; nothing here keeps a reference to it.
#include "smtp/command.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "base/text.h"

namespace tern::smtp {
namespace {

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

struct VerbName {
    std::string_view name;
    Verb verb;
};

constexpr std::array kVerbs{
    VerbName{"HELO", Verb::kHelo},         VerbName{"EHLO", Verb::kEhlo},
    VerbName{"MAIL", Verb::kMail},         VerbName{"RCPT", Verb::kRcpt},
    VerbName{"DATA", Verb::kData},         VerbName{"BDAT", Verb::kBdat},
    VerbName{"RSET", Verb::kRset},         VerbName{"NOOP", Verb::kNoop},
    VerbName{"QUIT", Verb::kQuit},         VerbName{"VRFY", Verb::kVrfy},
    VerbName{"EXPN", Verb::kExpn},         VerbName{"HELP", Verb::kHelp},
    VerbName{"STARTTLS", Verb::kStartTls}, VerbName{"AUTH", Verb::kAuth},
};

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool valid_keyword(std::string_view k) {
    if (k.empty() || !std::isalnum(static_cast<unsigned char>(k[0]))) return false;
    for (unsigned char c : k)
        if (!std::isalnum(c) && c != '-') return false;
    return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under SMTPUTF8 (RFC 6531 section 3.3).
bool valid_value(std::string_view v, bool utf8) {
    if (v.empty()) return false;
    for (unsigned char c : v) {
        if (c >= 0x80) {
            if (!utf8) return false;
            continue;
        }
        if (c < 33 || c == '=' || c > 126) return false;
    }
    return !utf8 || valid_utf8(v);
}

struct Param {
    std::string_view keyword;
    std::string_view value;
    bool has_value = false;
};

// Splits "K1=V1 K2" into parameters; false on a malformed parameter.
template <class F>
std::optional<Reply> for_each_param(std::string_view text, bool utf8, F&& handle) {
    while (!text.empty()) {
        if (text[0] != ' ') return reply(ReplyName::kSyntax);
        while (!text.empty() && text[0] == ' ')
            text.remove_prefix(1);
        if (text.empty()) break;
        auto end = text.find(' ');
        std::string_view word = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
        Param p;
        auto eq = word.find('=');
        p.keyword = word.substr(0, eq);
        if (eq != std::string_view::npos) {
            p.value = word.substr(eq + 1);
            p.has_value = true;
            if (!valid_value(p.value, utf8))
                return reply(ReplyName::kSyntax, "Malformed parameter value");
        }
        if (!valid_keyword(p.keyword)) return reply(ReplyName::kSyntax, "Malformed parameter");
        if (auto r = handle(p)) return r;
    }
    return std::nullopt;
}

Reply unsupported(std::string_view keyword) {
    return reply(ReplyName::kUnsupportedParam, "Unsupported parameter " + std::string(keyword));
}

Reply duplicate(std::string_view keyword) {
    return reply(ReplyName::kSyntax, "Duplicate parameter " + std::string(keyword));
}

// The text after "FROM:" or "TO:", tolerating one space after the colon as many clients send it.
std::optional<std::string_view> after_prefix(std::string_view args, std::string_view prefix) {
    if (!istarts_with(args, prefix)) return std::nullopt;
    args.remove_prefix(prefix.size());
    if (!args.empty() && args[0] == ' ') args.remove_prefix(1);
    return args;
}

}  // namespace

CommandLine split_command(std::string_view line) {
    auto sp = line.find(' ');
    std::string_view word = line.substr(0, sp);
    std::string_view args = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    for (const auto& v : kVerbs)
        if (ascii_iequals(word, v.name)) return CommandLine{v.verb, args};
    return CommandLine{Verb::kUnknown, args};
}

std::expected<MailCommand, Reply> parse_mail(std::string_view args, const Offered& offered) {
    auto rest = after_prefix(args, "FROM:");
    if (!rest) return std::unexpected(reply(ReplyName::kSyntax, "Syntax: MAIL FROM:<address>"));
    std::string_view text = *rest;

    // Parse the path as if SMTPUTF8 were given; once the parameters are known, a UTF-8
    // address without SMTPUTF8 is refused with 553 5.6.7 (RFC 6531 section 3.4).
    bool utf8_offered = offered.esmtp && offered.smtputf8;
    auto path = parse_reverse_path(text, utf8_offered);
    if (!path) {
        if (path.error() == PathError::kNonAscii)
            return std::unexpected(reply(ReplyName::kNonAsciiAddress));
        return std::unexpected(reply(ReplyName::kBadSenderSyntax));
    }
    MailCommand cmd{std::move(*path), {}};
    if (!text.empty() && !offered.esmtp)
        return std::unexpected(reply(ReplyName::kUnsupportedParam, "Parameters need EHLO"));

    bool seen_size = false, seen_body = false, seen_ret = false, seen_envid = false,
         seen_auth = false;
    auto error = for_each_param(text, utf8_offered, [&](const Param& p) -> std::optional<Reply> {
        if (ascii_iequals(p.keyword, "SIZE")) {
            if (seen_size) return duplicate(p.keyword);
            seen_size = true;
            std::uint64_t size = 0;
            if (!p.has_value || !parse_u64(p.value, size))
                return reply(ReplyName::kSyntax, "Bad SIZE value");
            if (offered.max_size != 0 && size > offered.max_size)
                return reply(ReplyName::kMessageTooBig);
            cmd.params.size = size;
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "BODY")) {
            if (seen_body) return duplicate(p.keyword);
            seen_body = true;
            if (!p.has_value) return reply(ReplyName::kSyntax, "Bad BODY value");
            if (ascii_iequals(p.value, "7BIT")) {
                cmd.params.body = BodyType::k7Bit;
            } else if (ascii_iequals(p.value, "8BITMIME") && offered.eight_bit_mime) {
                cmd.params.body = BodyType::k8BitMime;
            } else {
                return reply(ReplyName::kUnsupportedParam, "Unsupported BODY type");
            }
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "SMTPUTF8")) {
            if (!offered.smtputf8) return unsupported(p.keyword);
            if (p.has_value) return reply(ReplyName::kSyntax, "SMTPUTF8 takes no value");
            if (cmd.params.smtputf8) return duplicate(p.keyword);
            cmd.params.smtputf8 = true;
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "RET")) {
            if (!offered.dsn) return unsupported(p.keyword);
            if (seen_ret) return duplicate(p.keyword);
            seen_ret = true;
            if (p.has_value && ascii_iequals(p.value, "FULL")) {
                cmd.params.ret = DsnRet::kFull;
            } else if (p.has_value && ascii_iequals(p.value, "HDRS")) {
                cmd.params.ret = DsnRet::kHeaders;
            } else {
                return reply(ReplyName::kSyntax, "Bad RET value");
            }
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "ENVID")) {
            if (!offered.dsn) return unsupported(p.keyword);
            if (seen_envid) return duplicate(p.keyword);
            seen_envid = true;
            auto decoded = p.has_value ? decode_xtext(p.value) : std::nullopt;
            // RFC 3461 4.4: the envelope identifier is printable US-ASCII.
            if (!decoded || decoded->empty() || p.value.size() > 100 || !printable_ascii(*decoded))
                return reply(ReplyName::kSyntax, "Bad ENVID value");
            cmd.params.envid = std::move(*decoded);
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "AUTH")) {
            if (!offered.auth) return unsupported(p.keyword);
            if (seen_auth) return duplicate(p.keyword);
            seen_auth = true;
            auto decoded = p.has_value ? decode_xtext(p.value) : std::nullopt;
            if (!decoded) return reply(ReplyName::kSyntax, "Bad AUTH value");
            cmd.params.auth = std::move(*decoded);
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "REQUIRETLS")) {
            if (!offered.requiretls) return unsupported(p.keyword);
            // RFC 8689 section 2: the option is only for a session that employs TLS.
            if (!offered.tls) return reply(ReplyName::kRequireTlsWithoutTls);
            if (p.has_value) return reply(ReplyName::kSyntax, "REQUIRETLS takes no value");
            if (cmd.params.requiretls) return duplicate(p.keyword);
            cmd.params.requiretls = true;
            return std::nullopt;
        }
        return unsupported(p.keyword);
    });
    if (error) return std::unexpected(std::move(*error));
    if (cmd.sender.mailbox && cmd.sender.mailbox->utf8 && !cmd.params.smtputf8)
        return std::unexpected(reply(ReplyName::kNonAsciiAddress));
    return cmd;
}

std::expected<RcptCommand, Reply> parse_rcpt(std::string_view args, const Offered& offered,
                                             bool smtputf8) {
    auto rest = after_prefix(args, "TO:");
    if (!rest) return std::unexpected(reply(ReplyName::kSyntax, "Syntax: RCPT TO:<address>"));
    std::string_view text = *rest;
    auto path = parse_forward_path(text, smtputf8);
    if (!path) {
        if (path.error() == PathError::kNonAscii)
            return std::unexpected(reply(ReplyName::kNonAsciiAddress));
        return std::unexpected(reply(ReplyName::kBadRecipientSyntax));
    }
    RcptCommand cmd{std::move(*path), {}};
    if (!text.empty() && !offered.esmtp)
        return std::unexpected(reply(ReplyName::kUnsupportedParam, "Parameters need EHLO"));

    bool seen_notify = false, seen_orcpt = false;
    auto error = for_each_param(text, smtputf8, [&](const Param& p) -> std::optional<Reply> {
        if (ascii_iequals(p.keyword, "NOTIFY")) {
            if (!offered.dsn) return unsupported(p.keyword);
            if (seen_notify) return duplicate(p.keyword);
            seen_notify = true;
            if (!p.has_value) return reply(ReplyName::kSyntax, "Bad NOTIFY value");
            DsnNotify& n = cmd.params.notify;
            std::string_view list = p.value;
            while (true) {
                auto comma = list.find(',');
                std::string_view word = list.substr(0, comma);
                bool* flag = nullptr;
                if (ascii_iequals(word, "NEVER")) flag = &n.never;
                if (ascii_iequals(word, "SUCCESS")) flag = &n.success;
                if (ascii_iequals(word, "FAILURE")) flag = &n.failure;
                if (ascii_iequals(word, "DELAY")) flag = &n.delay;
                if (!flag || *flag) return reply(ReplyName::kSyntax, "Bad NOTIFY value");
                *flag = true;
                if (comma == std::string_view::npos) break;
                list.remove_prefix(comma + 1);
            }
            // RFC 3461 section 4.1: NEVER must stand alone.
            if (n.never && (n.success || n.failure || n.delay))
                return reply(ReplyName::kSyntax, "NOTIFY=NEVER cannot be combined");
            return std::nullopt;
        }
        if (ascii_iequals(p.keyword, "ORCPT")) {
            if (!offered.dsn) return unsupported(p.keyword);
            if (seen_orcpt) return duplicate(p.keyword);
            seen_orcpt = true;
            auto semi = p.has_value ? p.value.find(';') : std::string_view::npos;
            if (semi == std::string_view::npos || semi == 0 || p.value.size() > 500)
                return reply(ReplyName::kSyntax, "Bad ORCPT value");
            std::string_view type = p.value.substr(0, semi);
            for (unsigned char c : type)
                if (!std::isalnum(c) && c != '-')
                    return reply(ReplyName::kSyntax, "Bad ORCPT type");
            std::string_view addr = p.value.substr(semi + 1);
            auto decoded = decode_xtext(addr);
            if (!decoded && smtputf8 && ascii_iequals(type, "utf-8") && valid_utf8(addr))
                decoded = std::string(addr);
            // RFC 3461 4.2: an address, never control characters (they would reach the DSN).
            if (!decoded || decoded->empty() || has_control(*decoded))
                return reply(ReplyName::kSyntax, "Bad ORCPT address");
            cmd.params.orcpt = std::string(type) + ";" + *decoded;
            return std::nullopt;
        }
        return unsupported(p.keyword);
    });
    if (error) return std::unexpected(std::move(*error));
    return cmd;
}

std::expected<BdatCommand, Reply> parse_bdat(std::string_view args) {
    auto sp = args.find(' ');
    std::string_view size_text = args.substr(0, sp);
    BdatCommand cmd;
    if (!parse_u64(size_text, cmd.size))
        return std::unexpected(reply(ReplyName::kSyntax, "Syntax: BDAT <size> [LAST]"));
    if (sp != std::string_view::npos) {
        std::string_view rest = args.substr(sp + 1);
        if (!ascii_iequals(rest, "LAST"))
            return std::unexpected(reply(ReplyName::kSyntax, "Syntax: BDAT <size> [LAST]"));
        cmd.last = true;
    }
    return cmd;
}

std::optional<std::string_view> parse_helo(std::string_view args) {
    while (!args.empty() && args.front() == ' ')
        args.remove_prefix(1);
    while (!args.empty() && args.back() == ' ')
        args.remove_suffix(1);
    if (args.empty() || args.size() > kMaxDomain) return std::nullopt;
    // Take the first word; some clients add a comment after the name.
    auto sp = args.find(' ');
    std::string_view name = args.substr(0, sp);
    for (unsigned char c : name)
        if (c < 33 || c == 127) return std::nullopt;
    if (!valid_utf8(name)) return std::nullopt;
    return name;
}

}  // namespace tern::smtp
