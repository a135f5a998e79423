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
    LocalTransport(spool::Spool& spool, Maildir& maildir) : spool_(spool), maildir_(maildir) {}

    boost::asio::awaitable<std::vector<queue::RecipientResult>> deliver(
        queue::DeliveryJob job) override;

  private:
    spool::Spool& spool_;
    Maildir& maildir_;
};

// The mailbox name of a local address: the local part, lower-cased, quotes removed.
std::string mailbox_of(std::string_view address);

}  // namespace tern::delivery
