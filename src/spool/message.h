// What the spool keeps about one accepted message: its envelope, where its body lies, and the
// delivery state of each recipient. Written by the session driver, updated by the queue manager.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "message/header_edit.h"
#include "smtp/envelope.h"

namespace tern::spool {

enum class RecipientStatus : std::uint8_t {
    kPending,    // not yet tried
    kDeferred,   // failed temporarily; retried at next_attempt
    kDelivered,  // final: delivered or relayed
    kFailed,     // final: failed permanently or expired
};

struct Recipient {
    std::string address;   // where to deliver: a local "mailbox@domain" or a remote address
    std::string original;  // the RCPT TO address as the client sent it
    std::string orcpt;     // ORCPT parameter as "type;address"; empty when not given
    smtp::DsnNotify notify;
    // Reached by forwarding: a remote address from the alias expansion of a local recipient, or
    // the address an SRS address of ours stands for. Relayed with an SRS return path when [srs]
    // is on (delivery::SrsRewriter); spooled as a "forwarded <index>" line (docs/spool.md).
    bool forwarded = false;

    RecipientStatus status = RecipientStatus::kPending;
    std::uint32_t attempts = 0;
    std::int64_t next_attempt = 0;  // unix seconds; 0 = as soon as possible
    std::int64_t last_attempt = 0;  // unix seconds; 0 = never
    std::string remote_host;        // the server of the last attempt ("local" for Maildir)
    std::string reply;              // the last reply, e.g. "550 5.1.1 User unknown"
    bool from_host = false;         // `reply` is what remote_host said, not Tern's own words
    std::string detail;  // how the last attempt went: "ESMTP BDAT, TLSv1.3 ... (verified, dane)"
    // Tern's reply that made the recipient final apart from the last attempt: an operator's
    // bounce ("554 5.0.0 ..."), or giving up after max_lifetime. Empty otherwise.
    std::string verdict;
    bool reported = false;  // the notice owed for a final status has been queued

    bool final() const {
        return status == RecipientStatus::kDelivered || status == RecipientStatus::kFailed;
    }
};

struct Message {
    std::string id;
    std::int64_t arrival = 0;  // unix seconds
    std::string sender;        // envelope sender without brackets; empty for <>
    smtp::BodyType body = smtp::BodyType::kUnspecified;
    bool smtputf8 = false;
    bool requiretls = false;  // REQUIRETLS (RFC 8689): relayed only over verified TLS
    smtp::DsnRet ret = smtp::DsnRet::kUnspecified;
    std::string envid;
    std::string client_ip;
    std::string client_name;
    std::string helo;
    std::string auth_user;
    std::string protocol;
    std::vector<Recipient> recipients;

    bool held = false;              // an operator put the message on hold
    bool delay_warned = false;      // the delay notice was sent
    std::uint64_t body_offset = 0;  // where the message text starts in the spool file
    std::uint64_t body_length = 0;  // octets of message text as received
    // Changes the pipeline made to the header section, applied when the text is read out
    // (spool::TextReader); the text in the file stays as received.
    std::vector<message::HeaderEdit> edits;
    long long edits_delta = 0;  // octets the edits (and a replaced body) add to the text
    // A body that replaced the received one (a milter's replbody, format 3): `replaced_length`
    // octets at `replaced_offset` of the file follow the (edited) header section when the text
    // is read out; the received body stays in the file unread.
    bool body_replaced = false;
    std::uint64_t replaced_offset = 0;
    std::uint64_t replaced_length = 0;

    // Octets of the text as it is delivered: received text plus edits.
    std::uint64_t size() const {
        return static_cast<std::uint64_t>(static_cast<long long>(body_length) + edits_delta);
    }

    // True when every recipient is final and reported: the files can go.
    bool complete() const;
};

std::string_view status_name(RecipientStatus status);

}  // namespace tern::spool
