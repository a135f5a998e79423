// Pickup: maildrop files into the spool. A file is removed only after its message is committed
// (a crash in between delivers it twice, never loses it); a file that is not a maildrop file,
// or too large, is set aside for the postmaster with a log line, never deleted.
#include "server/pickup.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "base/durable_dirs.h"
#include "base/unique_fd.h"
#include "base/unix_time.h"
#include "message/header_text.h"
#include "message/received.h"
#include "smtp/command.h"
#include "smtp/reply_parser.h"
#include "spool/file_io.h"
#include "spool/maildrop.h"

namespace tern::server {
namespace asio = boost::asio;

namespace {

// Room for the maildrop header lines beyond the message size limit.
constexpr std::uint64_t kHeaderAllowance = 1 << 20;

std::string user_of(uid_t uid) {
    std::array<char, 4096> buf{};
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return found->pw_name;
    return "";
}

}  // namespace

Pickup::Pickup(asio::io_context& loop, PickupOptions options, spool::Injector& injector,
               const policy::RecipientPolicy& recipients, const pipeline::PipelineSlot* stages,
               log::Logger& log)
    : loop_(loop),
      options_(std::move(options)),
      injector_(injector),
      recipients_(recipients),
      stages_(stages),
      log_(log),
      timer_(loop) {}

Result<void> Pickup::start() {
    if (auto r = spool::make_maildrop(options_.dir); !r) return r;
    if (auto r = make_durable_dirs(options_.bad_dir, 0700); !r) return r;
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && ::inotify_add_watch(fd, options_.dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) >= 0)
        watch_ = std::make_unique<asio::posix::stream_descriptor>(loop_, fd);
    else if (fd >= 0)
        ::close(fd);  // no watch: the periodic scan still picks files up
    if (watch_) {
        asio::co_spawn(
            loop_,
            [this]() -> asio::awaitable<void> {
                std::array<char, 4096> events{};
                while (!stopped_) {
                    auto [ec, n] = co_await watch_->async_read_some(
                        asio::buffer(events), asio::as_tuple(asio::use_awaitable));
                    if (ec) co_return;
                    pending_ = true;
                    timer_.cancel();
                }
            },
            asio::detached);
    }
    asio::co_spawn(loop_, run(), asio::detached);
    return {};
}

void Pickup::stop() {
    asio::post(loop_, [this] {
        stopped_ = true;
        timer_.cancel();
        if (watch_) {
            boost::system::error_code ignored;
            watch_->close(ignored);
        }
    });
}

asio::awaitable<void> Pickup::run() {
    while (!stopped_) {
        pending_ = false;
        co_await scan();
        if (pending_ || stopped_) continue;
        timer_.expires_after(options_.scan_interval);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> Pickup::scan() {
    for (const auto& name : spool::list_dir(options_.dir)) {
        if (stopped_) co_return;
        if (name.empty() || name[0] == '.') continue;  // being written
        co_await take(name);
    }
}

void Pickup::set_aside(const std::string& name, const std::string& why) {
    std::string from = options_.dir + "/" + name;
    std::string to = options_.bad_dir + "/" + name;
    if (::rename(from.c_str(), to.c_str()) != 0) {
        log_.error("pickup_bad",
                   {{"file", from}, {"reason", why}, {"error", std::strerror(errno)}});
        return;
    }
    log_.error("pickup_bad", {{"file", to}, {"reason", why}});
}

asio::awaitable<void> Pickup::take(const std::string& name) {
    std::string path = options_.dir + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        if (errno == ELOOP) set_aside(name, "a symbolic link");
        co_return;  // gone meanwhile, or not ours to read
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_aside(name, "not a regular file");
        co_return;
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > options_.max_message_size + kHeaderAllowance) {
        set_aside(name, "over the message size limit");
        co_return;
    }
    std::string bytes(size, '\0');
    if (auto r = spool::pread_all(fd.get(), bytes.data(), bytes.size(), 0, path); !r) {
        log_.error("pickup", {{"file", path}, {"error", r.error().message}});
        co_return;
    }
    fd.reset();
    auto drop = spool::decode_maildrop(bytes);
    if (!drop) {
        set_aside(name, drop.error().message);
        co_return;
    }
    if (drop->text.size() > options_.max_message_size) {
        set_aside(name, "over the message size limit");
        co_return;
    }
    std::string user = user_of(st.st_uid);
    spool::Message m;
    m.arrival = unix_now();
    std::string sender_args;
    if (!drop->ret.empty()) sender_args += " RET=" + drop->ret;
    if (!drop->envid.empty()) sender_args += " ENVID=" + drop->envid;
    auto mail =
        smtp::parse_mail("FROM:<" + drop->sender + ">" + sender_args, smtp::local_offered());
    if (!mail) {
        set_aside(name, "invalid sender: " + smtp::reply_line(mail.error()));
        co_return;
    }
    m.sender = mail->sender.mailbox ? mail->sender.mailbox->str() : "";
    m.ret = mail->params.ret;
    m.envid = mail->params.envid;
    m.body = !message::is_ascii(drop->text) ? smtp::BodyType::k8BitMime : smtp::BodyType::k7Bit;
    m.client_ip = "127.0.0.1";
    m.helo = options_.hostname;
    m.protocol = "local";
    std::string rcpt_args = drop->notify.empty() ? "" : " NOTIFY=" + drop->notify;
    for (const auto& address : drop->recipients) {
        auto rcpt =
            smtp::parse_rcpt("TO:<" + address + ">" + rcpt_args, smtp::local_offered(), true);
        if (!rcpt) {
            log_.warn("pickup_recipient",
                      {{"file", path}, {"to", address}, {"reply", smtp::reply_line(rcpt.error())}});
            continue;
        }
        if (!message::is_ascii(address)) m.smtputf8 = true;
        recipients_.expand(smtp::Recipient{rcpt->recipient, rcpt->params}, m.recipients);
    }
    if (m.recipients.empty()) {
        set_aside(name, "no valid recipient");
        co_return;
    }
    auto writer = injector_.begin(std::move(m));
    if (!writer) {
        log_.error("pickup", {{"file", path}, {"error", writer.error().message}});
        co_return;  // stays in the maildrop: the next scan tries again
    }
    auto& w = **writer;
    std::string received = "Received: by " + options_.hostname + " (Tern, from userid " +
                           std::to_string(st.st_uid) + ")\r\n\tid " + w.id() + "; " +
                           message::rfc5322_date(std::chrono::system_clock::now()) + "\r\n";
    w.append(received);
    w.append(drop->text);
    bool hold = false;
    // Held to the end of the run: a reload may put another pipeline in the slot.
    auto stages = stages_ ? stages_->load() : nullptr;
    if (stages && !stages->empty()) {
        pipeline::SessionInfo session;
        session.source = pipeline::Source::kLocal;
        session.client_ip = "127.0.0.1";
        session.helo = options_.hostname;
        session.trusted = true;
        if (auto run = stages->start_message(session, w.message())) {
            run->text(received);
            run->text(drop->text);
            auto outcome = co_await run->finish();
            using Kind = pipeline::Verdict::Kind;
            const auto& v = outcome.verdict;
            if (v.kind == Kind::kDefer) {
                injector_.discard(w);
                log_.warn("pickup", {{"file", path}, {"stage", v.stage}, {"reason", v.reason}});
                co_return;  // tried again at the next scan
            }
            if (v.kind == Kind::kReject || v.kind == Kind::kDiscard) {
                injector_.discard(w);
                if (v.kind == Kind::kReject)
                    set_aside(name, "refused by " + v.stage + ": " + smtp::reply_line(v.reply));
                else if (::unlink(path.c_str()) == 0)
                    log_.info("discarded",
                              {{"file", path}, {"stage", v.stage}, {"reason", v.reason}});
                co_return;
            }
            hold = v.kind == Kind::kHold;
            w.set_edits(std::move(outcome.edits), outcome.edits_delta);
        }
    }
    auto committed = co_await injector_.commit(w, hold);
    if (!committed) {
        log_.error("pickup", {{"file", path}, {"error", committed.error().message}});
        co_return;  // the file stays; the next scan tries again
    }
    ::unlink(path.c_str());
    log_.info("pickup", {{"id", committed->id},
                         {"uid", static_cast<std::uint64_t>(st.st_uid)},
                         {"user", user},
                         {"from", committed->sender.empty() ? "<>" : committed->sender},
                         {"recipients", committed->recipients.size()},
                         {"size", committed->size()}});
}

}  // namespace tern::server
