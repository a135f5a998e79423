// LocalTransport: Maildir delivery in two group-synced steps (file data, then the new/ entry),
// so many deliveries share each sync. Errors map to 4xx (retry) or 5xx (return to sender); a
// recipient is reported delivered only once both syncs succeeded.
#include "delivery/local_transport.h"

#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "base/text.h"
#include "spool/async_sync.h"
#include "spool/text_reader.h"

namespace tern::delivery {
namespace asio = boost::asio;

std::string mailbox_of(std::string_view address) {
    auto at = address.rfind('@');
    std::string local(address.substr(0, at));
    if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
        std::string unquoted;
        for (std::size_t i = 1; i + 1 < local.size(); ++i) {
            if (local[i] == '\\' && i + 2 < local.size()) ++i;
            unquoted += local[i];
        }
        local = std::move(unquoted);
    }
    return ascii_lower(local);
}

namespace {

queue::RecipientResult failure_for(std::size_t index, const Error& e) {
    queue::RecipientResult r;
    r.index = index;
    r.remote_host = "local";
    if (e.code == ErrorCode::kNoSpace) {
        r.reply = "452 4.2.2 Mailbox full or disk full: " + e.message;
    } else if (e.code == ErrorCode::kInvalid) {
        r.outcome = queue::Outcome::kFailed;
        r.reply = "550 5.1.1 Bad mailbox name: " + e.message;
    } else {
        r.reply = "451 4.3.0 Local delivery failed: " + e.message;
    }
    return r;
}

}  // namespace

asio::awaitable<std::vector<queue::RecipientResult>> LocalTransport::deliver(
    queue::DeliveryJob job) {
    const spool::Message& m = *job.message;
    std::vector<queue::RecipientResult> results;
    auto source = spool_.open_message(m.id);
    if (!source) {
        for (auto i : job.recipients)
            results.push_back(failure_for(i, source.error()));
        co_return results;
    }
    spool::TextReader text(source->get(), m);
    if (text.failed()) {
        for (auto i : job.recipients)
            results.push_back(failure_for(
                i, Error{ErrorCode::kIo, "cannot read the header section of spool file " + m.id}));
        co_return results;
    }
    std::string return_path = "Return-Path: <" + m.sender + ">\n";
    struct Written {
        std::size_t index;
        MaildirFile file;
    };
    std::vector<Written> written;
    std::vector<spool::SyncItem> data_items;
    for (auto i : job.recipients) {
        const auto& rcpt = m.recipients[i];
        std::string prefix = return_path + "Delivered-To: " + rcpt.address + "\n";
        // The pipeline's header edits come first, then the rest of the text from the spool.
        prefix += text.head();
        auto file = maildir_.write(mailbox_of(rcpt.address), prefix, source->get(),
                                   text.rest_offset(), text.rest_length());
        if (!file) {
            results.push_back(failure_for(i, file.error()));
            continue;
        }
        data_items.push_back(spool::SyncItem{file->fd, -1});
        written.push_back(Written{i, std::move(*file)});
    }
    if (written.empty()) co_return results;

    std::vector<int> data_errors = co_await spool::async_group_sync_each(
        maildir_.io(), std::move(data_items), asio::use_awaitable);
    // Each new/ directory is opened before any file is renamed into it: a directory that cannot
    // be opened cannot be synced, so its files stay out of new/ and the recipient is retried.
    std::map<std::string, Result<UniqueFd>> dirs;
    std::vector<Written*> published;
    for (std::size_t i = 0; i < written.size(); ++i) {
        Written& w = written[i];
        if (data_errors[i] != 0) {
            maildir_.discard(w.file);
            results.push_back(failure_for(
                w.index, Error::from_errno(data_errors[i], "fsync " + w.file.tmp_path)));
            continue;
        }
        auto dir = dirs.find(w.file.new_dir);
        if (dir == dirs.end()) {
            dir = dirs.emplace(w.file.new_dir, maildir_.open_directory(w.file.new_dir)).first;
        }
        if (!dir->second) {
            maildir_.discard(w.file);
            results.push_back(failure_for(w.index, dir->second.error()));
            continue;
        }
        if (auto p = maildir_.publish(w.file); !p) {
            maildir_.discard(w.file);
            results.push_back(failure_for(w.index, p.error()));
            continue;
        }
        published.push_back(&w);
    }
    if (published.empty()) co_return results;

    std::vector<spool::SyncItem> dir_items;
    std::map<std::string, std::size_t> item_of;  // new/ directory -> its index in dir_items
    for (auto& [path, fd] : dirs) {
        if (!fd) continue;
        item_of[path] = dir_items.size();
        dir_items.push_back(spool::SyncItem{-1, fd->get()});
    }
    std::vector<int> dir_errors = co_await spool::async_group_sync_each(
        maildir_.io(), std::move(dir_items), asio::use_awaitable);
    for (auto* w : published) {
        if (int err = dir_errors[item_of.at(w->file.new_dir)]; err != 0) {
            // The name in new/ may not survive a crash: take the file back out so that the retry
            // does not find a first copy there. If a reader already took it, the retry delivers
            // a second copy: a duplicate, never a loss.
            (void)maildir_.unpublish(w->file);
            results.push_back(
                failure_for(w->index, Error::from_errno(err, "fsync " + w->file.new_dir)));
            continue;
        }
        queue::RecipientResult r;
        r.index = w->index;
        r.outcome = queue::Outcome::kDelivered;
        r.reply = "250 2.0.0 Delivered to maildir";
        r.remote_host = "local";
        r.detail = w->file.new_path;
        results.push_back(std::move(r));
    }
    co_return results;
}

}  // namespace tern::delivery
