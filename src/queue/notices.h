// Notices: which delivery status notifications a message owes (RFC 3461 NOTIFY rules) and
// the RFC 3464 request for each, ready for message::build_dsn.
#pragma once

#include <string>
#include <vector>

#include "message/dsn.h"
#include "spool/message.h"

namespace tern::queue {

enum class NoticeKind { kFailure, kDelay, kSuccess };

// Recipients that owe a notice of `kind` now: final and not yet reported for kFailure and
// kSuccess, deferred for kDelay; filtered by each recipient's NOTIFY and the null sender rule.
std::vector<std::size_t> recipients_owing(const spool::Message& message, NoticeKind kind);

struct NoticeContext {
    std::string hostname;
    std::size_t bounce_size_limit = 0;
    std::int64_t max_lifetime_seconds = 0;  // for Will-Retry-Until in delay notices
};

// The DSN request for `recipients` of `message`, with `original` the message text (or its
// head, at least the full header section) read from the spool.
message::DsnRequest notice_request(const spool::Message& message,
                                   const std::vector<std::size_t>& recipients, NoticeKind kind,
                                   std::string_view original, const NoticeContext& context,
                                   std::string message_id);

// The enhanced status code in a reply such as "550 5.1.1 User unknown"; a code derived from
// the reply's class when it has none.
std::string status_of_reply(std::string_view reply);

// A duration for people: "5d", "4h", "1h30m", "45s".
std::string duration_text(std::int64_t seconds);

}  // namespace tern::queue
