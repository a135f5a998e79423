// LocalTransport: delivers recipients at local domains into their Maildirs, reading the
// message from the spool. A delivery is reported only once the file and its name are durable.
#pragma once

#include "delivery/maildir.h"
#include "log/logger.h"
#include "queue/transport.h"
#include "spool/spool.h"

namespace tern::delivery {

class LocalTransport : public queue::Transport {
  public:
    // Deliveries of small messages run on `loop` when given: the queue manager's own loop
    // saves each delivery two hand-offs between threads (there and back), which cost more than
    // writing a small Maildir file. Larger ones (their copies block the loop for longer) go to
    // whichever loop the queue manager picks.
    LocalTransport(spool::Spool& spool, Maildir& maildir, boost::asio::io_context* loop = nullptr)
        : spool_(spool), maildir_(maildir), loop_(loop) {}

    boost::asio::awaitable<std::vector<queue::RecipientResult>> deliver(
        queue::DeliveryJob job) override;
    boost::asio::io_context* preferred_loop(const queue::DeliveryJob& job) override {
        std::uint64_t copied = job.message ? job.message->body_length * job.recipients.size() : 0;
        return copied <= kOnLoopMax ? loop_ : nullptr;
    }
    std::string_view name() const override { return "local"; }
    // Octets a delivery may copy (message size times recipients) to run on `loop`.
    static constexpr std::uint64_t kOnLoopMax = 256 * 1024;

  private:
    spool::Spool& spool_;
    Maildir& maildir_;
    boost::asio::io_context* loop_;
};

// The mailbox name of a local address: the local part, lower-cased, quotes removed.
std::string mailbox_of(std::string_view address);

}  // namespace tern::delivery
