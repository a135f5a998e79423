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

#include "base/unix_time.h"
#include "message/dsn.h"
#include "queue/queue_manager.h"
#include "smtp/reply_parser.h"
#include "spool/async_sync.h"
#include "spool/spool_format.h"
#include "spool/text_reader.h"

namespace tern::queue {
namespace asio = boost::asio;
using nlohmann::json;

std::string QueueManager::read_original(const spool::Message& m, bool& whole) const {
    // Enough for the header section when the message is too large to return in full.
    constexpr std::uint64_t kHeaderWindow = 256 * 1024;
    auto fd = spool_.open_message(m.id);
    whole = false;
    if (!fd) return {};
    spool::TextReader reader(fd->get(), m);  // the text as it was delivered, edits and all
    if (reader.failed()) return {};
    std::uint64_t size = reader.size();
    whole = options_.bounce_size_limit == 0 || size <= options_.bounce_size_limit;
    std::uint64_t want = whole ? size : std::min<std::uint64_t>(size, kHeaderWindow);
    std::string text(want, '\0');
    text.resize(reader.read_at(0, text.data(), want));
    if (text.size() < size) whole = false;
    return text;
}

asio::awaitable<void> QueueManager::send_notices(std::vector<std::string> ids) {
    struct Pending {
        std::string id;
        std::vector<std::size_t> reported;  // recipients to mark reported once it is durable
        bool warned = false;                // the delay notice is durable (or none was owed)
    };
    struct Notice {
        std::unique_ptr<spool::MessageWriter> writer;
        std::size_t pending = 0;  // index into `pending`: the original it reports on
        NoticeKind kind = NoticeKind::kFailure;
        std::vector<std::size_t> owing;
        bool hold = false;
    };
    std::vector<Pending> pending;
    std::vector<Notice> notices_made;
    NoticeContext ctx{options_.hostname, options_.bounce_size_limit,
                      options_.retry.max_lifetime.count()};
    std::int64_t now = unix_now();
    pipeline::SessionInfo local{pipeline::Source::kLocal, "127.0.0.1", "",
                                options_.hostname,        "",          false};
    for (const auto& id : ids) {
        auto it = entries_.find(id);
        if (it == entries_.end() || it->second.deleted) continue;
        Pending p{id, {}, false};
        std::vector<std::pair<NoticeKind, std::vector<std::size_t>>> notices;
        {
            const spool::Message& m = it->second.message;
            for (auto kind : {NoticeKind::kFailure, NoticeKind::kSuccess}) {
                auto owing = recipients_owing(m, kind);
                if (!owing.empty()) notices.emplace_back(kind, owing);
            }
            auto notice_at = options_.retry.delay_notice_at(m.arrival);
            if (notice_at != 0 && notice_at <= now && !m.delay_warned) {
                auto owing = recipients_owing(m, NoticeKind::kDelay);
                if (!owing.empty())
                    notices.emplace_back(NoticeKind::kDelay, owing);
                else
                    p.warned = true;  // nobody wants one: the time has simply passed
            }
        }
        pending.push_back(std::move(p));
        // Final recipients whose notice is not wanted are marked reported by apply(); any
        // final recipient still unreported here is covered by a notice below.
        for (auto& [kind, owing] : notices) {
            auto entry = entries_.find(id);
            if (entry == entries_.end()) break;
            const spool::Message& m = entry->second.message;
            bool whole = false;
            std::string original = read_original(m, whole);
            auto request = notice_request(m, owing, kind, original, ctx,
                                          "<" + m.id + "." + std::to_string(++notice_counter_) +
                                              "@" + options_.hostname + ">");
            if (!whole) request.return_full = false;
            // RFC 8689 section 5: a notice about a REQUIRETLS message returns the header only
            // (as RET=HDRS, whatever RET said) and is itself relayed only with REQUIRETLS.
            if (m.requiretls) request.return_full = false;
            std::string text = message::build_dsn(request, std::chrono::system_clock::now());
            spool::Message notice;
            notice.arrival = now;
            notice.sender = "";
            notice.smtputf8 = m.smtputf8;
            notice.requiretls = m.requiretls;
            notice.body = smtp::BodyType::k8BitMime;
            notice.client_ip = "127.0.0.1";
            notice.helo = options_.hostname;
            notice.protocol = "local";
            spool::Recipient to;
            to.address = m.sender;
            to.original = m.sender;
            notice.recipients.push_back(std::move(to));
            std::string sender = m.sender;
            auto writer = injector_.begin(std::move(notice));
            if (!writer) {
                log_.error("notice", {{"id", id}, {"error", writer.error().message}});
                continue;
            }
            (*writer)->append(text);
            // Notices pass through the local pipeline like any message (DKIM signing, say).
            bool hold = false;
            // Held to the end of the run: a reload may put another pipeline in the slot.
            auto stages = options_.notice_stages ? options_.notice_stages->load() : nullptr;
            if (stages) {
                if (auto run = stages->start_message(local, (*writer)->message())) {
                    run->text(text);
                    auto outcome = co_await run->finish();
                    using Kind = pipeline::Verdict::Kind;
                    const auto& v = outcome.verdict;
                    if (v.kind == Kind::kReject || v.kind == Kind::kDefer ||
                        v.kind == Kind::kDiscard) {
                        log_.warn("notice_refused", {{"id", id},
                                                     {"stage", v.stage},
                                                     {"reason", v.reason},
                                                     {"reply", smtp::reply_line(v.reply)}});
                        injector_.discard(**writer);
                        continue;  // the original stays unreported: tried again later
                    }
                    hold = v.kind == Kind::kHold;
                    (*writer)->set_edits(std::move(outcome.edits), outcome.edits_delta);
                }
            }
            log_.info("notice", {{"id", id},
                                 {"kind", kind == NoticeKind::kFailure ? "failure"
                                          : kind == NoticeKind::kDelay ? "delay"
                                                                       : "success"},
                                 {"to", sender},
                                 {"notice_id", (*writer)->id()}});
            notices_made.push_back(
                Notice{std::move(*writer), pending.size() - 1, kind, owing, hold});
        }
    }
    if (notices_made.empty() && pending.empty()) co_return;
    // The notices are made durable (one sync round) before the originals say "reported".
    std::vector<spool::Injector::Draft> drafts;
    for (auto& n : notices_made)
        drafts.push_back(spool::Injector::Draft{n.writer.get(), n.hold});
    auto committed = co_await injector_.commit(std::move(drafts));
    for (std::size_t k = 0; k < notices_made.size(); ++k) {
        auto& n = notices_made[k];
        if (!committed[k]) {
            // The original stays unreported, so its notice is made again next time.
            log_.error("notice_sync",
                       {{"id", pending[n.pending].id}, {"error", committed[k].error().message}});
            continue;
        }
        if (n.kind == NoticeKind::kDelay)
            pending[n.pending].warned = true;
        else
            pending[n.pending].reported.insert(pending[n.pending].reported.end(), n.owing.begin(),
                                               n.owing.end());
    }
    notices_made.clear();
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
