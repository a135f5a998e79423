// Injector: the one commit sequence by which a message enters the spool, whatever its source
// (SMTP sessions, the queue's notices, the HTTP API): file written as the text arrives, then
// finished, made durable by the group sync, marked committed, handed to the queue. Only after
// that may the source acknowledge the message (docs/spool.md "Committing a message").
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "base/error.h"
#include "spool/spool.h"

namespace tern::spool {

class Injector {
  public:
    using Handoff = std::function<void(Message)>;  // gives a committed message to the queue

    Injector(Spool& spool, Handoff handoff) : spool_(spool), handoff_(std::move(handoff)) {}

    // Starts a message: the spool file with its envelope. Append the text to the writer.
    Result<std::unique_ptr<MessageWriter>> begin(Message envelope) {
        return spool_.create(std::move(envelope));
    }

    // Throws away a message begun and not committed.
    void discard(MessageWriter& writer) { spool_.discard(writer); }

    struct Draft {
        MessageWriter* writer = nullptr;
        bool hold = false;  // starts on hold (a pipeline stage's verdict): a durable "hold" flag
    };

    // Commits every draft in one sync round. One result per draft, in order: the message as
    // handed to the queue, or why it was not committed (its file is then removed).
    boost::asio::awaitable<std::vector<Result<Message>>> commit(std::vector<Draft> drafts);

    // One draft.
    boost::asio::awaitable<Result<Message>> commit(MessageWriter& writer, bool hold = false);

  private:
    Spool& spool_;
    Handoff handoff_;
};

}  // namespace tern::spool
