// Event: one outcome of one recipient of one message (accepted, delivered, deferred, bounced,
// expired; suppressed when the API refused a suppressed recipient; bounced, deferred or
// complained from a report that came back, docs/feedback.md), as the event log keeps it
// and the API and webhooks hand it out (docs/events.md); EventSink: where the queue and the API
// report them, without waiting for any of it; EventFanout: one sink that tells several.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::events {

struct Event {
    std::uint64_t seq = 0;  // given by the log: increasing from 1, never reused
    std::int64_t time = 0;  // unix seconds
    std::string type;    // accepted, delivered, deferred, bounced, expired, suppressed, complained
    std::string id;      // the queue id
    std::string sender;  // the envelope sender; empty for <>
    std::string recipient;       // the address delivered to
    std::string reply;           // the remote reply, or Tern's verdict; empty for accepted
    std::string remote_host;     // the host that answered; empty when none did
    std::string source;          // how the message came (esmtps, esmtpsa, http, local)
    std::string auth;            // the account or API key that sent it; empty when none
    std::string category;        // a failure's class (docs/bounces.md), a complaint's type
    std::string report;          // from a report that came back: dsn, bounce or complaint
    std::uint32_t attempts = 0;  // delivery attempts so far

    bool operator==(const Event&) const = default;
};

// One line of the log: the event as a JSON object, no line end.
std::string to_json_line(const Event& e);
// The event of a log line; nullopt when the line is not one.
std::optional<Event> from_json_line(std::string_view line);

class EventSink {
  public:
    virtual ~EventSink() = default;
    // Takes the event (its seq is given by the sink); returns at once, from any thread.
    virtual void record(Event e) = 0;
};

// Tells every sink of its list, in order (the event log, the suppression list's feed...).
class EventFanout : public EventSink {
  public:
    explicit EventFanout(std::vector<EventSink*> sinks) : sinks_(std::move(sinks)) {}
    void record(Event e) override {
        for (std::size_t i = 0; i + 1 < sinks_.size(); ++i)
            sinks_[i]->record(e);
        if (!sinks_.empty()) sinks_.back()->record(std::move(e));
    }

  private:
    std::vector<EventSink*> sinks_;
};

}  // namespace tern::events
