// Spool: file layout and life cycle of spooled messages (docs/spool.md). Every message file is
// created in place, proven complete by its trailer CRC, and made durable by a group sync.
#include "spool/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "spool/spool_format.h"

namespace tern::spool {
namespace {

Result<void> write_all(int fd, std::string_view bytes, const std::string& what) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(Error::from_errno(errno, "write " + what));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<void> make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        return std::unexpected(Error::from_errno(errno, "mkdir " + path));
    return {};
}

Result<UniqueFd> open_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open " + path));
    return UniqueFd(fd);
}

Result<void> make_dirs(const std::string& path) {
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
            return std::unexpected(Error::from_errno(errno, "mkdir " + partial));
    }
    return {};
}

bool pread_all(int fd, char* buf, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
        ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        buf += got;
        n -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
    return true;
}

std::vector<std::string> list_dir(const std::string& path) {
    std::vector<std::string> names;
    DIR* d = ::opendir(path.c_str());
    if (!d) return names;
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
}

}  // namespace

void MessageWriter::append(std::string_view bytes) {
    if (error_ || bytes.empty()) return;
    if (auto r = write_all(fd_.get(), bytes, "spool file " + message_.id); !r) {
        error_ = r.error();
        return;
    }
    crc_ = crc32_update(crc_, bytes);
    body_length_ += bytes.size();
}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& dir, std::size_t group_commit_max,
                                           std::size_t recycle_files) {
    std::unique_ptr<Spool> spool(new Spool());
    spool->dir_ = dir;
    spool->recycle_max_ = recycle_files;
    if (auto r = make_dirs(dir); !r) return std::unexpected(r.error());
    for (const char* sub : {"/msg", "/state", "/free"})
        if (auto r = make_dir(dir + sub); !r) return std::unexpected(r.error());
    auto msg = open_dir(dir + "/msg");
    if (!msg) return std::unexpected(msg.error());
    auto state = open_dir(dir + "/state");
    if (!state) return std::unexpected(state.error());
    auto free = open_dir(dir + "/free");
    if (!free) return std::unexpected(free.error());
    // The new directories themselves must survive a crash.
    auto top = open_dir(dir);
    if (top) ::fsync(top->get());
    spool->msg_dir_ = std::move(*msg);
    spool->state_dir_ = std::move(*state);
    spool->free_dir_ = std::move(*free);
    spool->sync_ = std::make_unique<GroupSync>(group_commit_max);
    return spool;
}

std::string Spool::message_path(const std::string& id) const {
    return dir_ + "/msg/" + id;
}
std::string Spool::state_path(const std::string& id) const {
    return dir_ + "/state/" + id;
}

UniqueFd Spool::reuse(const std::string& id, std::uint64_t& old_size) {
    std::string name;
    {
        std::lock_guard lock(mutex_);
        if (free_.empty()) return UniqueFd();
        name = std::move(free_.back());
        free_.pop_back();
    }
    UniqueFd fd(::openat(free_dir_.get(), name.c_str(), O_WRONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 ||
        ::renameat(free_dir_.get(), name.c_str(), msg_dir_.get(), id.c_str()) != 0) {
        ::unlinkat(free_dir_.get(), name.c_str(), 0);
        return UniqueFd();
    }
    // Written over from the start; finish() cuts off what is left of the old message. Until
    // then a crash leaves a file whose id or CRC does not match, which recovery removes.
    old_size = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

Result<std::unique_ptr<MessageWriter>> Spool::create(Message message) {
    auto writer = std::make_unique<MessageWriter>();
    message.id = ids_.next();
    UniqueFd fd = reuse(message.id, writer->stale_size_);
    if (!fd.valid()) {
        fd.reset(::openat(msg_dir_.get(), message.id.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid())
            return std::unexpected(Error::from_errno(errno, "create spool file " + message.id));
    }
    writer->fd_ = std::move(fd);
    writer->message_ = std::move(message);
    std::string envelope = encode_envelope(writer->message_);
    if (auto r = write_all(writer->fd(), envelope, "spool file " + writer->message_.id); !r) {
        ::unlinkat(msg_dir_.get(), writer->message_.id.c_str(), 0);
        return std::unexpected(r.error());
    }
    writer->envelope_length_ = envelope.size();
    writer->crc_ = crc32_update(0, envelope);
    return writer;
}

Result<Message> Spool::finish(MessageWriter& writer) {
    if (!writer.error_) {
        std::string trailer =
            encode_trailer(writer.envelope_length_, writer.body_length_, writer.crc_);
        if (auto r = write_all(writer.fd(), trailer, "spool file " + writer.id()); !r)
            writer.error_ = r.error();
    }
    std::uint64_t length = writer.envelope_length_ + writer.body_length_ + kTrailerSize;
    if (!writer.error_ && writer.stale_size_ > length &&
        ::ftruncate(writer.fd(), static_cast<off_t>(length)) != 0)
        writer.error_ = Error::from_errno(errno, "truncate spool file " + writer.id());
    if (writer.error_) {
        Error e = *writer.error_;
        discard(writer);
        return std::unexpected(std::move(e));
    }
    Message m = writer.message_;
    m.body_offset = writer.envelope_length_;
    m.body_length = writer.body_length_;
    return m;
}

void Spool::discard(MessageWriter& writer) {
    writer.fd_.reset();
    ::unlinkat(msg_dir_.get(), writer.message_.id.c_str(), 0);
}

Result<UniqueFd> Spool::append_state(const std::string& id, std::string_view lines) {
    {
        std::lock_guard lock(mutex_);
        has_state_.insert(id);
    }
    int fd =
        ::openat(state_dir_.get(), id.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open state log " + id));
    UniqueFd owned(fd);
    if (auto r = write_all(fd, lines, "state log " + id); !r) return std::unexpected(r.error());
    return owned;
}

Result<UniqueFd> Spool::open_message(const std::string& id) const {
    int fd = ::openat(msg_dir_.get(), id.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open spool file " + id));
    return UniqueFd(fd);
}

void Spool::remove(const std::string& id) {
    forget_state(id);
    std::string name;
    {
        std::lock_guard lock(mutex_);
        if (free_.size() < recycle_max_) name = "f" + ids_.next();
    }
    struct stat st {};
    if (!name.empty() && ::fstatat(msg_dir_.get(), id.c_str(), &st, 0) == 0 &&
        static_cast<std::uint64_t>(st.st_size) <= kRecycleMaxFileSize &&
        ::renameat(msg_dir_.get(), id.c_str(), free_dir_.get(), name.c_str()) == 0) {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(name));
        return;
    }
    ::unlinkat(msg_dir_.get(), id.c_str(), 0);
}

void Spool::forget_state(const std::string& id) {
    bool had = false;
    {
        std::lock_guard lock(mutex_);
        had = has_state_.erase(id) > 0;
    }
    if (had) ::unlinkat(state_dir_.get(), id.c_str(), 0);
}

void Spool::recover_free() {
    // Files kept for reuse by the last run: as many as allowed are kept, under names unique
    // across runs (a queue id), so that no rename here can replace another kept file.
    std::lock_guard lock(mutex_);
    free_.clear();
    for (const auto& name : list_dir(dir_ + "/free")) {
        if (free_.size() < recycle_max_) {
            std::string fresh = "f" + ids_.next();
            if (::renameat(free_dir_.get(), name.c_str(), free_dir_.get(), fresh.c_str()) == 0) {
                free_.push_back(std::move(fresh));
                continue;
            }
        }
        ::unlinkat(free_dir_.get(), name.c_str(), 0);
    }
}

std::size_t Spool::recycled() const {
    std::lock_guard lock(mutex_);
    return free_.size();
}

std::uint64_t Spool::free_space() const {
    struct statvfs st {};
    if (::fstatvfs(msg_dir_.get(), &st) != 0) return UINT64_MAX;
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::optional<Message> Spool::load(const std::string& id) {
    auto fd = open_message(id);
    if (!fd) return std::nullopt;
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0 || static_cast<std::size_t>(st.st_size) < kTrailerSize)
        return std::nullopt;
    auto size = static_cast<std::uint64_t>(st.st_size);
    std::string trailer_bytes(kTrailerSize, '\0');
    if (!pread_all(fd->get(), trailer_bytes.data(), kTrailerSize, size - kTrailerSize))
        return std::nullopt;
    auto trailer = decode_trailer(trailer_bytes);
    if (!trailer || trailer->envelope_length + trailer->body_length + kTrailerSize != size)
        return std::nullopt;
    // The CRC over envelope and body proves that every block reached the disk.
    std::uint32_t crc = 0;
    std::string envelope;
    std::string buf(1 << 20, '\0');
    for (std::uint64_t off = 0, left = size - kTrailerSize; left > 0;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        if (!pread_all(fd->get(), buf.data(), n, off)) return std::nullopt;
        std::string_view chunk(buf.data(), n);
        crc = crc32_update(crc, chunk);
        if (off < trailer->envelope_length)
            envelope.append(chunk.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(
                                                n, trailer->envelope_length - off))));
        off += n;
        left -= n;
    }
    if (crc != trailer->crc) return std::nullopt;
    auto message = decode_envelope(envelope);
    if (!message || message->id != id) return std::nullopt;
    message->body_offset = trailer->envelope_length;
    message->body_length = trailer->body_length;
    // Replay the state log; a torn last line (crash during append) fails its CRC and is skipped.
    int sfd = ::openat(state_dir_.get(), id.c_str(), O_RDONLY | O_CLOEXEC);
    if (sfd >= 0) {
        UniqueFd state(sfd);
        {
            std::lock_guard lock(mutex_);
            has_state_.insert(id);
        }
        std::string log;
        ssize_t n;
        while ((n = ::read(sfd, buf.data(), buf.size())) > 0)
            log.append(buf.data(), static_cast<std::size_t>(n));
        std::string_view rest = log;
        while (!rest.empty()) {
            auto nl = rest.find('\n');
            if (nl == std::string_view::npos) break;
            apply_state_line(rest.substr(0, nl), *message);
            rest.remove_prefix(nl + 1);
        }
    }
    return message;
}

Result<RecoveryReport> Spool::recover(std::vector<Message>& out) {
    RecoveryReport report;
    recover_free();
    for (const auto& name : list_dir(dir_ + "/msg")) {
        auto message = QueueIdGenerator::valid(name) ? load(name) : std::nullopt;
        if (!message) {
            // Never acknowledged: the trailer is missing or the data did not all reach the disk.
            remove(name);
            ++report.removed;
            continue;
        }
        if (message->complete()) {
            remove(name);
            ++report.finished;
            continue;
        }
        out.push_back(std::move(*message));
        ++report.resumed;
    }
    // A state log whose message file is gone belongs to a message already removed.
    for (const auto& name : list_dir(dir_ + "/state")) {
        if (::faccessat(msg_dir_.get(), name.c_str(), F_OK, 0) != 0)
            ::unlinkat(state_dir_.get(), name.c_str(), 0);
    }

    return report;
}

}  // namespace tern::spool
