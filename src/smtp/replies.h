// The one table of SMTP replies Tern sends, each with its code and enhanced status code.
// RFC 5321 section 4.2 (codes), RFC 2034/3463 (enhanced status codes), RFC 4954 (AUTH replies).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace tern::smtp {

// Every reply the server side sends has a name here; the text is a default that some
// callers extend (the greeting names the host, "queued as" names the queue id).
enum class ReplyName {
    kGreeting,              // 220, no enhanced code (RFC 2034 section 3)
    kClosing,               // 221 2.0.0
    kHelo,                  // 250, no enhanced code
    kEhlo,                  // 250 multi-line, no enhanced code
    kOk,                    // 250 2.0.0
    kSenderOk,              // 250 2.1.0
    kRecipientOk,           // 250 2.1.5
    kReset,                 // 250 2.0.0
    kQueued,                // 250 2.0.0 queued as <id>
    kChunkOk,               // 250 2.0.0 for a non-final BDAT chunk
    kCannotVrfy,            // 252 2.5.0
    kHelp,                  // 214 2.0.0
    kStartData,             // 354, no enhanced code (3xx has no class in RFC 3463)
    kReadyForTls,           // 220 2.0.0
    kAuthOk,                // 235 2.7.0
    kAuthChallenge,         // 334, no enhanced code
    kShuttingDown,          // 421 4.3.2
    kTimeout,               // 421 4.4.2
    kTooManyErrors,         // 421 4.7.0
    kTooManyConnections,    // 421 4.7.0
    kTooManyFromClient,     // 421 4.7.0
    kTooManyTransactions,   // 421 4.7.0 (RFC 9422 MAILMAX)
    kConnectionRate,        // 421 4.7.0, a client over its connection rate
    kRateLimited,           // 450 4.7.1, a client, account or sender over its rate
    kClientListedTemp,      // 450 4.7.1, on a block list, when the policy defers
    kLocalError,            // 451 4.3.0
    kGreylisted,            // 451 4.7.1 (RFC 6647)
    kDmarcTemporary,        // 451 4.4.3: the DMARC policy could not be looked up (fail closed)
    kFilterTemporary,       // 451 4.7.1: a content filter (milter) said tempfail, or failed
    kNoSpace,               // 452 4.3.1
    kTooManyRecipients,     // 452 4.5.3
    kTlsUnavailable,        // 454 4.7.0
    kAuthTemporary,         // 454 4.7.0
    kNotRecognized,         // 500 5.5.2
    kLineTooLong,           // 500 5.5.6
    kDataLineTooLong,       // 500 5.5.6, at end of data
    kBareLineEnding,        // 500 5.5.2 in a command
    kBareCrInCommand,       // 500 5.5.2 in a command, when a bare LF is a line end
    kSyntax,                // 501 5.5.4
    kBadSenderSyntax,       // 501 5.1.7
    kBadHelo,               // 501 5.5.4
    kAuthCancelled,         // 501 5.0.0
    kAuthBadEncoding,       // 501 5.5.2
    kNotImplemented,        // 502 5.5.1
    kNeedHelo,              // 503 5.5.1
    kNeedMail,              // 503 5.5.1
    kNeedRecipient,         // 503 5.5.1
    kNestedMail,            // 503 5.5.1
    kDataBdatMixed,         // 503 5.5.1
    kAlreadyAuthenticated,  // 503 5.5.1
    kAlreadyTls,            // 503 5.5.1
    kAuthMechanism,         // 504 5.5.4
    kPregreet,              // 521 5.5.1: the client talked before the greeting (postscreen's)
    kAuthRequired,          // 530 5.7.0
    kTlsRequired,           // 530 5.7.0
    kRequireTlsWithoutTls,  // 530 5.7.10 (RFC 8689 2: REQUIRETLS only on a TLS session)
    kAuthFailed,            // 535 5.7.8
    kEncryptionRequired,    // 538 5.7.11
    kUnknownUser,           // 550 5.1.1
    kAliasLoop,             // 550 5.4.6
    kDmarcRejected,         // 550 5.7.1 (DMARCbis section 7.2)
    kFilterRejected,        // 550 5.7.1: a content filter (milter) said reject
    kMessageTooBig,         // 552 5.3.4
    kBadRecipientSyntax,    // 553 5.1.3
    kNonAsciiAddress,       // 553 5.6.7
    kSenderNotOwned,        // 553 5.7.1
    kNoValidRecipients,     // 554 5.5.1
    kRelayDenied,           // 554 5.7.1
    kClientListed,          // 554 5.7.1, on a block list
    kBareLineInData,        // 554 5.6.0
    kBareCrInData,          // 554 5.6.0, when a bare LF is a line end
    kNulInData,             // 554 5.6.0
    kTooManyHops,           // 554 5.4.6
    kPermanentError,        // 554 5.3.0
    kUnsupportedParam,      // 555 5.5.4
};

// A reply as it goes on the wire. Multi-line text separates lines with '\n'.
struct Reply {
    int code = 0;
    std::string status;  // enhanced status "x.y.z", empty where RFC 2034 forbids one
    std::string text;
    bool synthetic = false;  // made by Tern's client session, not a reply the peer sent

    bool positive() const { return code >= 200 && code < 400; }
    bool transient_failure() const { return code >= 400 && code < 500; }
    bool permanent_failure() const { return code >= 500; }

    // "250-first\r\n250 2.0.0 last\r\n": every line carries the code, and the status when present.
    std::string render() const;
};

// The named reply with its default text.
Reply reply(ReplyName name);

// The named reply with its code and status, and `text` in place of the default text.
Reply reply(ReplyName name, std::string text);

// The reply that reports `error` to an SMTP client: 452 4.3.1 for a full disk,
// 451 4.3.0 for other transient errors, 554 5.3.0 for permanent ones.
Reply reply_for(const Error& error);

}  // namespace tern::smtp
