// QueueManager, notices: the delivery status notifications (RFC 3464) a batch of results
// owes, spooled and made durable before the originals are marked reported.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "message/dsn.h"
#include "queue/queue_manager.h"
#include "queue/unix_time.h"
#include "spool/async_sync.h"
#include "spool/spool_format.h"

namespace tern::queue {
namespace asio = boost::asio;
using nlohmann::json;

std::string QueueManager::read_original(const spool::Message& m, bool& whole) const {
    // Enough for the header section when the message is too large to return in full.
    constexpr std::uint64_t kHeaderWindow = 256 * 1024;
    auto fd = spool_.open_message(m.id);
    whole = false;
    if (!fd) return {};
    whole = options_.bounce_size_limit == 0 || m.body_length <= options_.bounce_size_limit;
    std::uint64_t want =
        whole ? m.body_length : std::min<std::uint64_t>(m.body_length, kHeaderWindow);
    std::string text(want, '\0');
    std::size_t got = 0;
    while (got < want) {
        ssize_t n = ::pread(fd->get(), text.data() + got, want - got,
                            static_cast<off_t>(m.body_offset + got));
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    if (got < m.body_length) whole = false;
    return text;
}

asio::awaitable<void> QueueManager::send_notices(std::vector<std::string> ids) {
    struct Pending {
        std::string id;
        std::vector<std::size_t>
            reported;  // recipients to mark reported once the notice is durable
        bool warned = false;
    };
    std::vector<Pending> pending;
    std::vector<std::unique_ptr<spool::MessageWriter>> writers;
    std::vector<spool::SyncItem> items;
    NoticeContext ctx{options_.hostname, options_.bounce_size_limit,
                      options_.retry.max_lifetime.count()};
    std::int64_t now = unix_now();
    for (const auto& id : ids) {
        auto it = entries_.find(id);
        if (it == entries_.end() || it->second.deleted) continue;
        spool::Message& m = it->second.message;
        Pending p{id, {}, false};
        std::vector<std::pair<NoticeKind, std::vector<std::size_t>>> notices;
        for (auto kind : {NoticeKind::kFailure, NoticeKind::kSuccess}) {
            auto owing = recipients_owing(m, kind);
            if (!owing.empty()) notices.emplace_back(kind, owing);
        }
        auto notice_at = options_.retry.delay_notice_at(m.arrival);
        if (notice_at != 0 && notice_at <= now && !m.delay_warned) {
            auto owing = recipients_owing(m, NoticeKind::kDelay);
            if (!owing.empty()) notices.emplace_back(NoticeKind::kDelay, owing);
            p.warned = true;
        }
        // Final recipients whose notice is not wanted are marked reported by apply(); any
        // final recipient still unreported here is covered by a notice below.
        for (auto& [kind, owing] : notices) {
            bool whole = false;
            std::string original = read_original(m, whole);
            auto request = notice_request(m, owing, kind, original, ctx,
                                          "<" + m.id + "." + std::to_string(++notice_counter_) +
                                              "@" + options_.hostname + ">");
            if (!whole) request.return_full = false;
            std::string text = message::build_dsn(request, std::chrono::system_clock::now());
            spool::Message notice;
            notice.arrival = now;
            notice.sender = "";
            notice.smtputf8 = m.smtputf8;
            notice.body = smtp::BodyType::k8BitMime;
            notice.client_ip = "127.0.0.1";
            notice.helo = options_.hostname;
            notice.protocol = "local";
            spool::Recipient to;
            to.address = m.sender;
            to.original = m.sender;
            notice.recipients.push_back(std::move(to));
            auto writer = spool_.create(std::move(notice));
            if (!writer) {
                log_.error("notice", {{"id", m.id}, {"error", writer.error().message}});
                continue;
            }
            (*writer)->append(text);
            items.push_back(spool::SyncItem{(*writer)->fd(), spool_.msg_dir_fd()});
            writers.push_back(std::move(*writer));
            if (kind != NoticeKind::kDelay)
                p.reported.insert(p.reported.end(), owing.begin(), owing.end());
            log_.info("notice", {{"id", m.id},
                                 {"kind", kind == NoticeKind::kFailure ? "failure"
                                          : kind == NoticeKind::kDelay ? "delay"
                                                                       : "success"},
                                 {"to", m.sender},
                                 {"notice_id", writers.back()->id()}});
        }
        if (!p.reported.empty() || p.warned) pending.push_back(std::move(p));
    }
    if (writers.empty() && pending.empty()) co_return;
    // Finish the notices and make them durable before the originals say "reported".
    std::vector<spool::Message> finished;
    std::vector<spool::SyncItem> sync_items;
    std::vector<std::unique_ptr<spool::MessageWriter>> written;
    for (auto& w : writers) {
        auto m = spool_.finish(*w);
        if (!m) {
            log_.error("notice", {{"error", m.error().message}});
            continue;
        }
        sync_items.push_back(spool::SyncItem{w->fd(), spool_.msg_dir_fd()});
        finished.push_back(std::move(*m));
        written.push_back(std::move(w));
    }
    writers.clear();
    if (!sync_items.empty()) {
        auto [ec] = co_await spool::async_group_sync(spool_.group_sync(), std::move(sync_items),
                                                     asio::as_tuple(asio::use_awaitable));
        if (ec) {
            log_.error("notice_sync", {{"error", ec.message()}});
            // The originals stay unreported, so their notices are made again next time.
            for (auto& w : written)
                spool_.discard(*w);
            co_return;
        }
    }
    for (auto& w : written)
        spool_.mark_committed(*w);
    written.clear();
    for (auto& m : finished)
        add(std::move(m));
    std::map<std::string, std::string> lines;
    for (auto& p : pending) {
        auto it = entries_.find(p.id);
        if (it == entries_.end()) continue;
        auto& m = it->second.message;
        for (auto i : p.reported) {
            m.recipients[i].reported = true;
            lines[p.id] += spool::encode_recipient_state(i, m.recipients[i]);
        }
        if (p.warned) {
            m.delay_warned = true;
            lines[p.id] += spool::encode_flag("warned");
        }
    }
    co_await persist(std::move(lines));
}

}  // namespace tern::queue
