// The dashboard's logins and the request checks that keep its actions CSRF-safe: a session is a
// random token in an HttpOnly, SameSite=Strict cookie and a second random token the page sends
// back in a header with every change; a change whose Origin is another site is refused.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/error.h"

namespace tern::admin {

struct DashboardSession {
    std::string user;
    std::string csrf;  // sent back by the page in X-CSRF-Token
};

// The logins, least recently used first; thread-safe (the HTTP loops share it).
class SessionStore {
  public:
    using Clock = std::chrono::steady_clock;

    SessionStore(std::chrono::seconds lifetime, std::size_t max_sessions)
        : lifetime_(lifetime), max_sessions_(max_sessions) {}

    // A new session for `user`: its cookie token and the session. Past max_sessions the least
    // recently used one ends.
    Result<std::pair<std::string, DashboardSession>> open(std::string user, Clock::time_point now);
    // The session of `token`, renewed; nullopt when unknown or unused for longer than the
    // lifetime (then it is forgotten).
    std::optional<DashboardSession> find(std::string_view token, Clock::time_point now);
    void close(std::string_view token);
    std::size_t size() const;

  private:
    struct Entry {
        std::string token;
        DashboardSession session;
        Clock::time_point last_use;
    };
    using Order = std::list<Entry>;

    std::chrono::seconds lifetime_;
    std::size_t max_sessions_;
    mutable std::mutex mutex_;
    Order order_;
    std::unordered_map<std::string, Order::iterator> index_;
};

// The value of cookie `name` in a Cookie header ("a=1; name=value"); nullopt when absent.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

// Whether an Origin header value ("https://mail.example.org:8025") names this listener: the
// scheme it speaks (https when `tls`) and the host and port of the Host header the request came
// with. "null", another scheme, or another host or port is false.
bool same_origin(std::string_view origin, std::string_view host, bool tls);

}  // namespace tern::admin
