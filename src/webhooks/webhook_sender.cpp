// WebhookSender: a coroutine on the home loop per endpoint. Its state lives in a shared State,
// so that stop() may come while a POST is on the wire: the coroutine, when it resumes, sees the
// flag and ends without touching anything else.
#include "webhooks/webhook_sender.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/crypto.h"
#include "base/text.h"
#include "base/unix_time.h"

namespace tern::webhooks {
namespace asio = boost::asio;

struct WebhookSender::State {
    State(asio::io_context& home, const events::EventLog& log, WebhookOptions options,
          log::Logger& logger)
        : log(log), options(std::move(options)), logger(logger), timer(home) {}
    const events::EventLog& log;
    WebhookOptions options;
    log::Logger& logger;
    asio::steady_timer timer;
    asio::cancellation_signal cancel;
    bool stopped = false;
    std::uint64_t cursor = 0;
};

namespace {

// Writes the cursor by renaming a new file (mode 0600) over the old one. Not synced: a cursor
// lost to a crash makes the sender start again from the oldest event the log keeps (see
// start()), which sends batches again, as at-least-once allows; it never skips one.
Result<void> write_cursor(const std::string& path, std::uint64_t cursor, std::string_view url) {
    std::string temporary = path + ".new";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, temporary));
    std::string text = std::to_string(cursor) + " " + std::string(url) + "\n";
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) return fail(ErrorCode::kIo, temporary + ": cannot be written");
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        return std::unexpected(Error::from_errno(errno, "rename " + temporary));
    return {};
}

// The URL as logs show it: scheme, host and port, never the path or query (a token is often
// there).
std::string shown(const std::string& url) {
    auto parsed = http::Url::parse(url);
    if (!parsed) return "(not a URL)";
    return std::string(parsed->https ? "https://" : "http://") + parsed->authority();
}

// How many log lines one poll looks at, at most: a backlog of events the type filter leaves
// out is skipped over in steps of this size, not all at once on the loop.
constexpr std::size_t kMaxScan = 10000;

}  // namespace

std::string webhook_signature(std::string_view secret, std::int64_t time, std::string_view body) {
    std::string signed_text = std::to_string(time) + "." + std::string(body);
    return "t=" + std::to_string(time) + ",v1=" + hex_lower(auth::hmac_sha256(secret, signed_text));
}

std::string cursor_path(const std::string& dir, std::string_view url) {
    return dir + "/" + hex_lower(auth::sha256(url)).substr(0, 16) + ".cursor";
}

WebhookSender::WebhookSender(asio::io_context& home, const events::EventLog& log,
                             WebhookOptions options, log::Logger& logger)
    : home_(home), state_(std::make_shared<State>(home, log, std::move(options), logger)) {}

Result<void> WebhookSender::start() {
    auto& o = state_->options;
    std::error_code ec;
    std::filesystem::create_directories(o.state_dir, ec);
    if (ec) return fail(ErrorCode::kIo, o.state_dir + ": " + ec.message());
    std::string path = cursor_path(o.state_dir, o.url);
    std::uint64_t cursor = 0;
    std::string url;
    std::uint64_t durable = state_->log.durable();
    std::string label = shown(o.url);
    bool exists = std::filesystem::exists(std::filesystem::symlink_status(path, ec));
    std::ifstream in(path);
    if (!exists) {
        // A new endpoint: from now on, not the whole history the log keeps.
        state_->cursor = durable;
        if (auto r = write_cursor(path, state_->cursor, o.url); !r) return r;
    } else if (!(in >> cursor >> url) || url != o.url || cursor > durable) {
        // A cursor file torn by a crash, or a log begun anew: everything the log keeps is sent
        // (again) rather than anything skipped.
        state_->logger.warn(
            "webhook_cursor",
            {{"url", label}, {"file", path}, {"found", cursor}, {"log_end", durable}, {"from", 0}});
        state_->cursor = 0;
    } else {
        state_->cursor = cursor;
    }
    state_->logger.info("webhook_start", {{"url", label}, {"after", state_->cursor}});
    asio::co_spawn(home_, run(state_),
                   asio::bind_cancellation_slot(state_->cancel.slot(), asio::detached));
    return {};
}

void WebhookSender::stop() {
    asio::post(home_, [state = state_] {
        state->stopped = true;
        state->timer.cancel();
        state->cancel.emit(asio::cancellation_type::terminal);
    });
}

asio::awaitable<void> WebhookSender::run(std::shared_ptr<State> state) {
    const auto& o = state->options;
    std::string path = cursor_path(o.state_dir, o.url);
    std::string label = shown(o.url);
    std::chrono::seconds backoff = o.min_retry;
    std::uint32_t attempt = 0;
    auto keep = [&o](const events::Event& e) {
        return o.types.empty() ||
               std::find(o.types.begin(), o.types.end(), e.type) != o.types.end();
    };
    while (!state->stopped) {
        auto page = state->log.read(state->cursor, o.batch_size, keep, kMaxScan);
        std::chrono::milliseconds pause = o.poll;
        if (!page) {
            state->logger.error("webhook", {{"url", label}, {"error", page.error().message}});
        } else if (page->events.empty()) {
            // Events filtered out (or removed by the log's size limit) move the cursor too.
            if (page->next != state->cursor) {
                state->cursor = page->next;
                (void)write_cursor(path, state->cursor, o.url);
            }
        } else {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& e : page->events)
                list.push_back(nlohmann::json::parse(events::to_json_line(e)));
            std::string body = nlohmann::json{{"events", std::move(list)}}.dump(
                -1, ' ', false, nlohmann::json::error_handler_t::replace);
            http::ClientRequest request;
            request.method = boost::beast::http::verb::post;
            request.url = o.url;
            request.content_type = "application/json";
            request.headers = {{"Tern-Signature", webhook_signature(o.secret, unix_now(), body)},
                               {"Tern-Attempt", std::to_string(attempt + 1)}};
            request.body = std::move(body);
            Result<http::ClientResponse> answer = fail(ErrorCode::kTemporary, "not sent");
            try {
                answer = co_await http::fetch(std::move(request), o.http);
            } catch (const std::exception& e) {
                answer = fail(ErrorCode::kTemporary, e.what());  // cancelled by stop()
            }
            if (state->stopped) co_return;
            if (answer && answer->status >= 200 && answer->status < 300) {
                state->logger.info("webhook_sent", {{"url", label},
                                                    {"events", page->events.size()},
                                                    {"last", page->next},
                                                    {"status", answer->status}});
                state->cursor = page->next;
                if (auto w = write_cursor(path, state->cursor, o.url); !w)
                    state->logger.error("webhook", {{"url", label}, {"error", w.error().message}});
                backoff = o.min_retry;
                attempt = 0;
                continue;  // more may be waiting
            }
            ++attempt;
            std::string why =
                answer ? "status " + std::to_string(answer->status) : answer.error().message;
            state->logger.warn("webhook_failed", {{"url", label},
                                                  {"events", page->events.size()},
                                                  {"attempt", attempt},
                                                  {"error", why},
                                                  {"retry_in", backoff.count()}});
            pause = backoff;
            backoff = std::min(backoff * 2, o.max_retry);
        }
        state->timer.expires_after(pause);
        co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace tern::webhooks
