// SMTP command grammar (RFC 5321 section 4.1.1, with the parameters of RFC 1870, 3030, 3461,
// 4954, 6152, 6531 and 8689): a client line in, a typed command or the exact error reply out.
#pragma once

#include <cstdint>
#include <expected>
#include <string_view>

#include "smtp/envelope.h"
#include "smtp/replies.h"

namespace tern::smtp {

enum class Verb {
    kHelo,
    kEhlo,
    kMail,
    kRcpt,
    kData,
    kBdat,
    kRset,
    kNoop,
    kQuit,
    kVrfy,
    kExpn,
    kHelp,
    kStartTls,
    kAuth,
    kUnknown,
};

// A command line (CRLF removed) split into its verb and the text after the verb's space.
struct CommandLine {
    Verb verb = Verb::kUnknown;
    std::string_view args;  // borrowed from the line
};

CommandLine split_command(std::string_view line);

// What this session offers; parameters belonging to an extension not offered are refused.
struct Offered {
    bool esmtp = false;  // EHLO was used: any parameter at all needs it
    bool eight_bit_mime = true;
    bool smtputf8 = true;
    bool dsn = true;
    bool auth = false;
    bool requiretls = false;     // REQUIRETLS is supported (advertised only under TLS)
    bool tls = false;            // the session is under TLS
    std::uint64_t max_size = 0;  // SIZE limit in octets
};

// What a local source that is no SMTP session (the maildrop, the HTTP API) may use when its
// envelope is read with parse_mail/parse_rcpt: every extension, no size limit.
inline Offered local_offered() {
    Offered o;
    o.esmtp = true;
    return o;
}

struct MailCommand {
    ReversePath sender;
    MailParams params;
};

struct RcptCommand {
    ForwardPath recipient;
    RcptParams params;
};

struct BdatCommand {
    std::uint64_t size = 0;
    bool last = false;
};

// "FROM:<path> params" -> the sender and parameters, or the reply that refuses them.
std::expected<MailCommand, Reply> parse_mail(std::string_view args, const Offered& offered);

// "TO:<path> params" -> the recipient and parameters, or the refusing reply.
// `smtputf8` is whether the transaction's MAIL carried SMTPUTF8.
std::expected<RcptCommand, Reply> parse_rcpt(std::string_view args, const Offered& offered,
                                             bool smtputf8);

// "<size> [LAST]" of RFC 3030.
std::expected<BdatCommand, Reply> parse_bdat(std::string_view args);

// The EHLO/HELO argument: one word of printable text (the name is not verified, as
// RFC 5321 section 4.1.4 asks); nullopt when missing or malformed.
std::optional<std::string_view> parse_helo(std::string_view args);

}  // namespace tern::smtp
