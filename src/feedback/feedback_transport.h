// FeedbackTransport: the queue's transport for mail to the FeedbackInbox's addresses: reads the
// report (feedback/report.h), matches it to the message and recipient its VERP address names,
// and tells the event sinks (a "bounced", "deferred" or "complained" event, which the
// suppression list's feed may act on). The report itself is then done: it is never delivered
// anywhere nor bounced (no loops), and one that says nothing usable is logged and dropped.
#pragma once

#include "bounce/classifier.h"
#include "events/event.h"
#include "feedback/inbox.h"
#include "feedback/report.h"
#include "feedback/sent_index.h"
#include "log/logger.h"
#include "queue/transport.h"
#include "spool/spool.h"

namespace tern::feedback {

struct FeedbackTransportOptions {
    std::size_t max_read = 1024 * 1024;  // octets of a report read; the rest is not looked at
    ReportLimits limits;
};

// The category (docs/bounces.md) of one recipient of a report: its reply, with a code of its
// status's class in front when the report gave none ("5.2.2 mailbox full" as "550 5.2.2 ...").
std::string recipient_category(const RecipientReport& r,
                               const bounce::BounceClassifier& classifier);

// The addresses by which a report may name a message of ours, in the order they are tried: the
// address it came to, a complaint's Original-Mail-From, the returned message's Return-Path.
std::vector<std::string> verp_addresses(const Report& report, std::string_view to);

// The first of verp_addresses() that is a full VERP address of ours (its tag holds with the
// recipient it carries); compact ones need the sent index (FeedbackTransport).
std::optional<VerpTarget> full_target(const Report& report, std::string_view to,
                                      const VerpCodec& verp);

// The events a report makes about `target`'s message and recipient (sans-I/O, tested on its
// own); `now` is their time. None for a report that is none of ours to count: no report, a
// success, a "not-spam" complaint.
std::vector<events::Event> report_events(const Report& report, const VerpTarget& target,
                                         const bounce::BounceClassifier* classifier,
                                         std::int64_t now);

class FeedbackTransport : public queue::Transport {
  public:
    // `sent` (may be null) tells who sent a matched message: its events get that sender, source
    // and API key.
    FeedbackTransport(spool::Spool& spool, const FeedbackInbox& inbox, events::EventSink* events,
                      const bounce::BounceClassifier* classifier, SentIndex* sent, log::Logger& log,
                      FeedbackTransportOptions options = {})
        : spool_(spool),
          inbox_(inbox),
          events_(events),
          classifier_(classifier),
          sent_(sent),
          log_(log),
          options_(options) {}

    boost::asio::awaitable<std::vector<queue::RecipientResult>> deliver(
        queue::DeliveryJob job) override;
    std::string_view name() const override { return "feedback"; }

  private:
    spool::Spool& spool_;
    const FeedbackInbox& inbox_;
    events::EventSink* events_;
    const bounce::BounceClassifier* classifier_;
    SentIndex* sent_;
    log::Logger& log_;
    FeedbackTransportOptions options_;
};

}  // namespace tern::feedback
