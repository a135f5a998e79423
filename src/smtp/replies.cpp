// The reply table: code, enhanced status and default text of every named reply.
// Codes follow RFC 5321 section 4.2.2 and 4.5.3.1.10; enhanced codes RFC 3463 and its registry.
#include "smtp/replies.h"

#include <array>

namespace tern::smtp {
namespace {

struct ReplyEntry {
    ReplyName name;
    int code;
    std::string_view status;
    std::string_view text;
};

constexpr std::array kTable{
    ReplyEntry{ReplyName::kGreeting, 220, "", "ESMTP Tern"},
    ReplyEntry{ReplyName::kClosing, 221, "2.0.0", "Bye"},
    ReplyEntry{ReplyName::kHelo, 250, "", "Hello"},
    ReplyEntry{ReplyName::kEhlo, 250, "", "Hello"},
    ReplyEntry{ReplyName::kOk, 250, "2.0.0", "Ok"},
    ReplyEntry{ReplyName::kSenderOk, 250, "2.1.0", "Sender ok"},
    ReplyEntry{ReplyName::kRecipientOk, 250, "2.1.5", "Recipient ok"},
    ReplyEntry{ReplyName::kReset, 250, "2.0.0", "Reset state"},
    ReplyEntry{ReplyName::kQueued, 250, "2.0.0", "Ok: queued"},
    ReplyEntry{ReplyName::kChunkOk, 250, "2.0.0", "Ok: chunk received"},
    ReplyEntry{ReplyName::kCannotVrfy, 252, "2.5.0",
               "Cannot VRFY user, but will accept message and attempt delivery"},
    ReplyEntry{ReplyName::kHelp, 214, "2.0.0",
               "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP"},
    ReplyEntry{ReplyName::kStartData, 354, "", "End data with <CR><LF>.<CR><LF>"},
    ReplyEntry{ReplyName::kReadyForTls, 220, "2.0.0", "Ready to start TLS"},
    ReplyEntry{ReplyName::kAuthOk, 235, "2.7.0", "Authentication successful"},
    ReplyEntry{ReplyName::kAuthChallenge, 334, "", ""},
    ReplyEntry{ReplyName::kShuttingDown, 421, "4.3.2",
               "Service shutting down, closing transmission channel"},
    ReplyEntry{ReplyName::kTimeout, 421, "4.4.2", "Timeout exceeded, closing connection"},
    ReplyEntry{ReplyName::kTooManyErrors, 421, "4.7.0", "Too many errors, closing connection"},
    ReplyEntry{ReplyName::kTooManyConnections, 421, "4.7.0",
               "Too many connections, try again later"},
    ReplyEntry{ReplyName::kTooManyFromClient, 421, "4.7.0",
               "Too many connections from your address, try again later"},
    ReplyEntry{ReplyName::kTooManyTransactions, 421, "4.7.0",
               "Too many transactions in this connection, closing connection"},
    ReplyEntry{ReplyName::kConnectionRate, 421, "4.7.0",
               "Too many connections from your address lately, try again later"},
    ReplyEntry{ReplyName::kRateLimited, 450, "4.7.1", "Rate limit exceeded, try again later"},
    ReplyEntry{ReplyName::kClientListedTemp, 450, "4.7.1",
               "Service temporarily unavailable; client blocked"},
    ReplyEntry{ReplyName::kLocalError, 451, "4.3.0", "Local error in processing, try again later"},
    ReplyEntry{ReplyName::kGreylisted, 451, "4.7.1", "Greylisted"},
    ReplyEntry{ReplyName::kDmarcTemporary, 451, "4.4.3",
               "DMARC policy could not be retrieved, try again later"},
    ReplyEntry{ReplyName::kFilterTemporary, 451, "4.7.1", "Service unavailable - try again later"},
    ReplyEntry{ReplyName::kNoSpace, 452, "4.3.1", "Insufficient system storage, try again later"},
    ReplyEntry{ReplyName::kTooManyRecipients, 452, "4.5.3", "Too many recipients"},
    ReplyEntry{ReplyName::kTlsUnavailable, 454, "4.7.0",
               "TLS not available due to temporary reason"},
    ReplyEntry{ReplyName::kAuthTemporary, 454, "4.7.0", "Temporary authentication failure"},
    ReplyEntry{ReplyName::kNotRecognized, 500, "5.5.2", "Command not recognized"},
    ReplyEntry{ReplyName::kLineTooLong, 500, "5.5.6", "Line too long"},
    ReplyEntry{ReplyName::kDataLineTooLong, 500, "5.5.6", "Message has a line that is too long"},
    ReplyEntry{ReplyName::kBareLineEnding, 500, "5.5.2",
               "Bare CR or LF in command; commands end with CRLF"},
    ReplyEntry{ReplyName::kBareCrInCommand, 500, "5.5.2",
               "Bare CR in command; commands end with CRLF"},
    ReplyEntry{ReplyName::kSyntax, 501, "5.5.4", "Syntax error in parameters or arguments"},
    ReplyEntry{ReplyName::kBadSenderSyntax, 501, "5.1.7", "Bad sender address syntax"},
    ReplyEntry{ReplyName::kBadHelo, 501, "5.5.4", "EHLO/HELO needs a domain or address literal"},
    ReplyEntry{ReplyName::kAuthCancelled, 501, "5.0.0", "Authentication cancelled"},
    ReplyEntry{ReplyName::kAuthBadEncoding, 501, "5.5.2", "Cannot decode base64 response"},
    ReplyEntry{ReplyName::kNotImplemented, 502, "5.5.1", "Command not implemented"},
    ReplyEntry{ReplyName::kNeedHelo, 503, "5.5.1", "Send EHLO or HELO first"},
    ReplyEntry{ReplyName::kNeedMail, 503, "5.5.1", "Need MAIL command first"},
    ReplyEntry{ReplyName::kNeedRecipient, 503, "5.5.1", "Need RCPT command first"},
    ReplyEntry{ReplyName::kNestedMail, 503, "5.5.1", "Nested MAIL command"},
    ReplyEntry{ReplyName::kDataBdatMixed, 503, "5.5.1",
               "DATA and BDAT cannot be mixed in one transaction"},
    ReplyEntry{ReplyName::kAlreadyAuthenticated, 503, "5.5.1", "Already authenticated"},
    ReplyEntry{ReplyName::kAlreadyTls, 503, "5.5.1", "TLS already active"},
    ReplyEntry{ReplyName::kAuthMechanism, 504, "5.5.4", "Unrecognized authentication mechanism"},
    ReplyEntry{ReplyName::kPregreet, 521, "5.5.1", "Protocol error"},
    ReplyEntry{ReplyName::kAuthRequired, 530, "5.7.0", "Authentication required"},
    ReplyEntry{ReplyName::kTlsRequired, 530, "5.7.0", "Must issue a STARTTLS command first"},
    ReplyEntry{ReplyName::kRequireTlsWithoutTls, 530, "5.7.10",
               "Encryption needed: REQUIRETLS is accepted only under TLS"},
    ReplyEntry{ReplyName::kAuthFailed, 535, "5.7.8", "Authentication credentials invalid"},
    ReplyEntry{ReplyName::kEncryptionRequired, 538, "5.7.11",
               "Encryption required for requested authentication mechanism"},
    ReplyEntry{ReplyName::kUnknownUser, 550, "5.1.1", "User unknown"},
    ReplyEntry{ReplyName::kAliasLoop, 550, "5.4.6", "Alias expansion loop"},
    ReplyEntry{ReplyName::kDmarcRejected, 550, "5.7.1", "Email rejected per DMARC policy"},
    ReplyEntry{ReplyName::kFilterRejected, 550, "5.7.1", "Message content rejected"},
    ReplyEntry{ReplyName::kMessageTooBig, 552, "5.3.4", "Message size exceeds fixed limit"},
    ReplyEntry{ReplyName::kBadRecipientSyntax, 553, "5.1.3", "Bad recipient address syntax"},
    ReplyEntry{ReplyName::kNonAsciiAddress, 553, "5.6.7",
               "Non-ASCII address needs the SMTPUTF8 parameter"},
    ReplyEntry{ReplyName::kSenderNotOwned, 553, "5.7.1",
               "Sender address not owned by authenticated user"},
    ReplyEntry{ReplyName::kNoValidRecipients, 554, "5.5.1", "No valid recipients"},
    ReplyEntry{ReplyName::kRelayDenied, 554, "5.7.1", "Relay access denied"},
    ReplyEntry{ReplyName::kClientListed, 554, "5.7.1", "Service unavailable; client blocked"},
    ReplyEntry{ReplyName::kBareLineInData, 554, "5.6.0",
               "Message contains a bare CR or LF; lines must end with CRLF"},
    ReplyEntry{ReplyName::kBareCrInData, 554, "5.6.0",
               "Message contains a bare CR; lines must end with CRLF"},
    ReplyEntry{ReplyName::kNulInData, 554, "5.6.0", "Message contains NUL octets"},
    ReplyEntry{ReplyName::kTooManyHops, 554, "5.4.6", "Too many hops (mail loop)"},
    ReplyEntry{ReplyName::kPermanentError, 554, "5.3.0", "Message cannot be accepted"},
    ReplyEntry{ReplyName::kUnsupportedParam, 555, "5.5.4", "Unsupported parameter"},
};

constexpr bool table_in_order() {
    for (std::size_t i = 0; i < kTable.size(); ++i)
        if (static_cast<std::size_t>(kTable[i].name) != i) return false;
    return true;
}
static_assert(table_in_order(), "kTable rows must follow the order of ReplyName");

const ReplyEntry& entry(ReplyName name) {
    return kTable[static_cast<std::size_t>(name)];
}

}  // namespace

std::string Reply::render() const {
    std::string out;
    std::string_view rest = text;
    do {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        bool last = nl == std::string_view::npos;
        out += std::to_string(code);
        out += last ? ' ' : '-';
        if (!status.empty()) {
            out += status;
            out += ' ';
        }
        out += line;
        out += "\r\n";
        rest = last ? std::string_view{} : rest.substr(nl + 1);
        if (last) break;
    } while (true);
    return out;
}

Reply reply(ReplyName name) {
    const auto& e = entry(name);
    return Reply{e.code, std::string(e.status), std::string(e.text)};
}

Reply reply(ReplyName name, std::string text) {
    const auto& e = entry(name);
    return Reply{e.code, std::string(e.status), std::move(text)};
}

Reply reply_for(const Error& error) {
    if (error.code == ErrorCode::kNoSpace) return reply(ReplyName::kNoSpace);
    if (error.transient()) return reply(ReplyName::kLocalError);
    return reply(ReplyName::kPermanentError);
}

}  // namespace tern::smtp
