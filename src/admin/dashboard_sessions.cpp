// SessionStore and the cookie and origin checks of the dashboard.
#include "admin/dashboard_sessions.h"

#include "auth/crypto.h"
#include "base/text.h"

namespace tern::admin {
namespace {

Result<std::string> random_token() {
    auto bytes = auth::random_bytes(32);
    if (!bytes) return std::unexpected(bytes.error());
    return hex_lower(*bytes);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

Result<std::pair<std::string, DashboardSession>> SessionStore::open(std::string user,
                                                                    Clock::time_point now) {
    auto token = random_token();
    if (!token) return std::unexpected(token.error());
    auto csrf = random_token();
    if (!csrf) return std::unexpected(csrf.error());
    DashboardSession session{std::move(user), std::move(*csrf)};
    std::lock_guard lock(mutex_);
    while (!order_.empty() && order_.size() >= max_sessions_) {
        index_.erase(order_.front().token);
        order_.pop_front();
    }
    order_.push_back(Entry{*token, session, now});
    index_[*token] = std::prev(order_.end());
    return std::pair{std::move(*token), std::move(session)};
}

std::optional<DashboardSession> SessionStore::find(std::string_view token, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(std::string(token));
    if (it == index_.end()) return std::nullopt;
    if (now - it->second->last_use > lifetime_) {
        order_.erase(it->second);
        index_.erase(it);
        return std::nullopt;
    }
    it->second->last_use = now;
    order_.splice(order_.end(), order_, it->second);
    return it->second->session;
}

void SessionStore::close(std::string_view token) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(std::string(token));
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
}

std::size_t SessionStore::size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        std::size_t end = header.find(';');
        std::string_view pair = trim(header.substr(0, end));
        header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
        std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (trim(pair.substr(0, eq)) != name) continue;
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        return value;
    }
    return std::nullopt;
}

bool same_origin(std::string_view origin, std::string_view host, bool tls) {
    std::size_t scheme = origin.find("://");
    if (scheme == std::string_view::npos) return false;
    if (!ascii_iequals(origin.substr(0, scheme), tls ? "https" : "http")) return false;
    std::string_view rest = origin.substr(scheme + 3);
    if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
    return !host.empty() && ascii_iequals(rest, trim(host));
}

}  // namespace tern::admin
