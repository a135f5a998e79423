// QueueManager: schedules the delivery of every spooled message. Keeps per-destination ready
// queues with concurrency limits, retries with backoff, expires old messages, sends notices
// (RFC 3464), records every state change durably, and answers the operator's queue commands.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "bounce/classifier.h"
#include "events/event.h"
#include "log/logger.h"
#include "net/event_loops.h"
#include "pipeline/pipeline.h"
#include "queue/notices.h"
#include "queue/queue_metrics.h"
#include "queue/retry_policy.h"
#include "queue/transport.h"
#include "spool/injector.h"
#include "spool/spool.h"

namespace tern::queue {

struct QueueOptions {
    std::string hostname;  // Reporting-MTA and MAILER-DAEMON domain of notices
    RetryPolicy retry;
    std::size_t bounce_size_limit = 51200;
    std::size_t max_deliveries = 500;      // jobs in progress, all destinations together
    std::chrono::seconds state_retry{10};  // a failed state write or sync is tried again after
    const pipeline::PipelineSlot* notice_stages = nullptr;  // the stages notices pass; null = none
    QueueMetrics* metrics = nullptr;      // what /metrics counts; null: nothing counted
    events::EventSink* events = nullptr;  // told every acceptance and outcome; null: none
    // Gives each failure its category, in the events and the log (docs/bounces.md); null: none.
    const bounce::BounceClassifier* classifier = nullptr;
};

// Where one recipient goes: a destination key (jobs to one key share its concurrency
// limit and may share connections), the transport, and the key's concurrency limit.
struct Route {
    std::string destination;
    Transport* transport = nullptr;
    std::size_t concurrency = 1;
};
using Router = std::function<Route(const spool::Recipient&)>;

// A recipient's delivery that did not succeed, as the dashboard lists the recent ones.
struct RecentFailure {
    std::int64_t time = 0;  // unix seconds
    std::string id;
    std::string recipient;
    std::string status;  // "deferred", "bounced" or "expired"
    std::string reply;   // the verdict when Tern gave one, else the last reply
    std::string host;    // the host that answered, when one did
    std::string site;    // the destination
};

class QueueManager {
  public:
    // Recent failures kept for the "failures" command, newest first.
    static constexpr std::size_t kRecentFailures = 200;

    // Runs on `home`; deliveries run on the loops of `loops`.
    QueueManager(boost::asio::io_context& home, net::EventLoops& loops, spool::Spool& spool,
                 log::Logger& log, QueueOptions options, Router router);
    ~QueueManager();

    // Takes the recovered messages and starts scheduling. Call once.
    void start(std::vector<spool::Message> recovered);

    // Hands over a freshly committed message; safe from any thread.
    void submit(spool::Message message);

    // Stops starting deliveries; `done` runs on home once running deliveries have reported.
    void stop(std::function<void()> done);

    // An operator command: {"cmd": "list"|"show"|"retry"|"hold"|"release"|"delete"|"bounce",
    // "id": "...", "all": bool}, or {"cmd": "sites"} (recipients still to do per destination and
    // state) or {"cmd": "failures"} (the recent failures). Returns {"ok": bool, "error"?: text,
    // ...}. Runs on home.
    boost::asio::awaitable<nlohmann::json> command(nlohmann::json request);

    // A reload's new retry schedule, lifetime, delay warning, notice size and delivery limit;
    // safe from any thread. Each message is looked at again: a shorter delay warning is due at
    // once, a retry already scheduled keeps its time, and the next failure takes the new
    // schedule (and the new lifetime decides whether it expires). The router is asked again
    // for the concurrency of each destination with jobs waiting.
    void set_policy(RetryPolicy retry, std::size_t bounce_size_limit, std::size_t max_deliveries);

    boost::asio::io_context& home() { return home_; }

    // The queue's sizes and its oldest message, for /metrics. Runs on home; O(messages).
    boost::asio::awaitable<QueueSummary> summary() const;

  private:
    struct Entry {
        spool::Message message;
        std::vector<bool> busy;    // per recipient: part of a running job
        std::size_t jobs = 0;      // running jobs
        bool deleted = false;      // deleted by the operator while jobs ran
        bool unsaved = false;      // the state log lags behind `message`: no notice, no removal
        std::int64_t wake_at = 0;  // unix time of its live timeline entry; 0 = none
    };
    struct Destination {
        std::deque<DeliveryJob> waiting;
        std::size_t active = 0;
        std::size_t limit = 1;
        Transport* transport = nullptr;
    };
    struct Completion {
        std::string id;
        std::vector<RecipientResult> results;
        bool counts_as_attempt = true;  // false for operator bounces
    };

    void add(spool::Message message);
    void apply_policy(const RetryPolicy& retry, std::size_t bounce_size_limit,
                      std::size_t max_deliveries);  // on home
    void pump();
    void examine(const std::string& id);
    void dispatch();
    void withdraw_waiting(Entry& entry);
    void start_job(Destination& dest, DeliveryJob job);
    void arm_timer();
    void wake_results();
    boost::asio::awaitable<void> timer_loop();
    boost::asio::awaitable<void> results_loop();
    boost::asio::awaitable<void> process(std::vector<Completion> batch);
    boost::asio::awaitable<void> send_notices(std::vector<std::string> ids);
    // Appends each message's lines to its state log (or removes a finished message) and makes
    // it durable; returns the ids whose change did not become durable, which are marked unsaved
    // and written again in full by a later round.
    boost::asio::awaitable<std::set<std::string>> persist(std::map<std::string, std::string> lines);
    // Removes finished messages' files; the removal becomes durable without being waited for,
    // and removed() forgets the messages then (or keeps them, after `err`, for a retry).
    void remove_lazily(const std::vector<std::string>& ids);
    void removed(const std::vector<std::string>& ids, int err);
    // Removes finished or deleted messages' files and makes the removal durable.
    boost::asio::awaitable<Result<void>> remove_durably(std::vector<std::string> ids);
    void apply(Entry& entry, const RecipientResult& result, bool counts_as_attempt,
               std::int64_t now);
    std::string read_original(const spool::Message& message, bool& whole) const;
    // Every recipient's state and the message flags, to rewrite an unsaved entry's log.
    static std::string full_state(const spool::Message& message);
    void finish_stop_if_idle();
    nlohmann::json describe(const Entry& entry, bool full) const;
    void note_failure(RecentFailure failure);
    nlohmann::json sites() const;
    nlohmann::json failures() const;

    boost::asio::io_context& home_;
    net::EventLoops& loops_;
    spool::Spool& spool_;
    spool::Injector injector_;  // commits notices; hands them to this queue
    log::Logger& log_;
    QueueOptions options_;
    Router router_;

    std::unordered_map<std::string, Entry> entries_;
    std::deque<std::string> ready_;  // ids to examine now
    using Wake = std::pair<std::int64_t, std::string>;
    std::priority_queue<Wake, std::vector<Wake>, std::greater<>> timeline_;  // (unix time, id)
    std::map<std::string, Destination> destinations_;
    std::size_t active_ = 0;
    std::deque<Completion> completed_;
    std::vector<std::string> delay_due_;  // messages whose delay notice time has come

    boost::asio::steady_timer wake_timer_;     // fires at the earliest timeline entry
    boost::asio::steady_timer results_event_;  // cancelled to wake results_loop
    std::set<std::string> unsaved_;            // entries whose state log lags (Entry::unsaved)
    bool removal_unsynced_ = false;            // a removal's directory sync failed: sync again
    // Finished messages whose removal is not durable yet: listed, not otherwise acted on.
    std::unordered_map<std::string, Entry> removing_;
    std::size_t removal_failures_ = 0;  // lazy removal syncs that failed, ever
    // How a removal's sync (on the sync thread) reaches this queue, if it still exists.
    struct Link {
        std::mutex mutex;
        QueueManager* queue = nullptr;
    };
    std::shared_ptr<Link> link_ = std::make_shared<Link>();
    std::int64_t armed_for_ = 0;  // unix time wake_timer_ is set for; 0 = idle
    bool processing_ = false;
    bool stopping_ = false;
    std::function<void()> stopped_;
    std::uint64_t notice_counter_ = 0;
    std::deque<RecentFailure> recent_failures_;  // newest first, at most kRecentFailures
};

}  // namespace tern::queue
