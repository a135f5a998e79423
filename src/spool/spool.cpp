// Spool: file layout and life cycle of spooled messages (docs/spool.md). Every message file is
// created in place, proven complete by its trailer CRC and commit mark, and made durable by a
// group sync. Recovery lives in spool_recovery.cpp.
#include "spool/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/durable_dirs.h"
#include "spool/file_io.h"
#include "spool/spool_format.h"

namespace tern::spool {

void MessageWriter::append(std::string_view bytes) {
    if (error_ || bytes.empty()) return;
    crc_ = crc32_update(crc_, bytes);
    body_length_ += bytes.size();
    pending_ += bytes;
    if (pending_.size() >= kWriteBatch) flush();
}

void MessageWriter::flush() {
    if (error_ || pending_.empty()) return;
    if (auto r = write_all(fd_.get(), pending_, "spool file " + message_.id); !r)
        error_ = r.error();
    pending_.clear();
    if (pending_.capacity() > 2 * kWriteBatch) pending_.shrink_to_fit();
}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& dir, std::size_t group_commit_max,
                                           std::size_t recycle_files) {
    std::unique_ptr<Spool> spool(new Spool());
    spool->dir_ = dir;
    spool->recycle_max_ = recycle_files;
    // Each directory made here is synced into its parent: the first message must not be
    // acknowledged into a directory that a power cut could take away.
    if (auto r = make_durable_dirs(dir, 0700); !r) return std::unexpected(r.error());
    for (const char* sub : {"/msg", "/state", "/free", "/quarantine"})
        if (auto r = make_durable_dirs(dir + sub, 0700); !r) return std::unexpected(r.error());
    auto msg = open_dir(dir + "/msg");
    if (!msg) return std::unexpected(msg.error());
    auto state = open_dir(dir + "/state");
    if (!state) return std::unexpected(state.error());
    auto free = open_dir(dir + "/free");
    if (!free) return std::unexpected(free.error());
    auto quarantine = open_dir(dir + "/quarantine");
    if (!quarantine) return std::unexpected(quarantine.error());
    spool->msg_dir_ = std::move(*msg);
    spool->state_dir_ = std::move(*state);
    spool->free_dir_ = std::move(*free);
    spool->quarantine_dir_ = std::move(*quarantine);
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
    FreeFile kept;
    {
        std::lock_guard lock(mutex_);
        if (free_.empty()) return UniqueFd();
        kept = std::move(free_.back());
        free_.pop_back();
    }
    const char* name = kept.name.c_str();
    UniqueFd fd(::openat(free_dir_.get(), name, O_WRONLY | O_CLOEXEC));
    // The commit mark of its last message goes before the file takes the new name.
    if (!fd.valid() || ::fchmod(fd.get(), kWritingMode) != 0 ||
        ::renameat(free_dir_.get(), name, msg_dir_.get(), id.c_str()) != 0) {
        ::unlinkat(free_dir_.get(), name, 0);
        return UniqueFd();
    }
    // Written over from the start; finish() cuts off what is left of the old message (of a
    // length unknown for files kept by the last run: always cut then). Until then a crash
    // leaves an unmarked file whose id or CRC does not match: removed at recovery.
    old_size = kept.size;
    return fd;
}

Result<std::unique_ptr<MessageWriter>> Spool::create(Message message) {
    auto writer = std::make_unique<MessageWriter>();
    message.id = ids_.next();
    UniqueFd fd = reuse(message.id, writer->stale_size_);
    if (!fd.valid()) {
        fd.reset(::openat(msg_dir_.get(), message.id.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kWritingMode));
        if (!fd.valid())
            return std::unexpected(Error::from_errno(errno, "create spool file " + message.id));
    }
    writer->fd_ = std::move(fd);
    writer->message_ = std::move(message);
    // Written with the first batch of text: one write for the whole of a small message.
    writer->pending_ = encode_envelope(writer->message_);
    writer->envelope_length_ = writer->pending_.size();
    writer->crc_ = crc32_update(0, writer->pending_);
    return writer;
}

void MessageWriter::set_envelope(Message changed) {
    // What the head of the file says about the file itself stays; the rest is the new envelope.
    changed.id = message_.id;
    changed.arrival = message_.arrival;
    changed.edits = std::move(message_.edits);
    changed.edits_delta = message_.edits_delta;
    message_ = std::move(changed);
    envelope_changed_ = true;
}

Result<Message> Spool::finish(MessageWriter& writer) {
    std::uint64_t length = writer.envelope_length_ + writer.body_length_;
    std::uint64_t replaced_at = 0;  // file offset of a replacement body
    if (!writer.error_) {
        // Without edits the file is in the first format: the edits block and its longer
        // trailer only for messages a pipeline stage changed, the third format only for those
        // whose envelope or body it changed.
        std::string tail;
        if (writer.envelope_changed_ || writer.body_) {
            tail = encode_edits(writer.message_.edits, writer.message_.edits_delta);
            std::uint64_t edits_length = tail.size();
            if (writer.envelope_changed_) tail += encode_envelope(writer.message_);
            std::uint64_t new_envelope_length = tail.size() - edits_length;
            if (writer.body_) {
                tail += kBodyMagic;
                replaced_at = length + tail.size();
                tail += *writer.body_;
            }
            std::uint64_t body_block_length = tail.size() - edits_length - new_envelope_length;
            std::uint32_t crc = crc32_update(writer.crc_, tail);
            tail += encode_trailer3(writer.envelope_length_, writer.body_length_, edits_length,
                                    new_envelope_length, body_block_length, crc);
        } else if (writer.message_.edits.empty()) {
            tail = encode_trailer(writer.envelope_length_, writer.body_length_, writer.crc_);
        } else {
            tail = encode_edits(writer.message_.edits, writer.message_.edits_delta);
            std::uint32_t crc = crc32_update(writer.crc_, tail);
            tail += encode_trailer2(writer.envelope_length_, writer.body_length_, tail.size(), crc);
        }
        length += tail.size();
        writer.pending_ += tail;
        writer.flush();
    }
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
    if (writer.body_) {
        m.body_replaced = true;
        m.replaced_offset = replaced_at;
        m.replaced_length = writer.body_->size();
    }
    return m;
}

void Spool::mark_committed(MessageWriter& writer) {
    // Only after the sync: a mark that reaches the disk then proves the content did too. An
    // error here costs nothing but the mark (a complete file loads without it).
    (void)::fchmod(writer.fd(), kCommittedMode);
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
    std::size_t written = 0;
    if (auto r = write_all(fd, lines, "state log " + id, &written); !r) {
        // A short write (ENOSPC) leaves part of a line: cut it off, or the next append would
        // be glued to it and both lines lost to their CRC at the next start.
        struct stat st {};
        if (written > 0 && ::fstat(fd, &st) == 0 &&
            static_cast<std::uint64_t>(st.st_size) >= written)
            (void)::ftruncate(fd, st.st_size - static_cast<off_t>(written));
        return std::unexpected(r.error());
    }
    return owned;
}

Result<UniqueFd> Spool::open_message(const std::string& id) const {
    int fd = ::openat(msg_dir_.get(), id.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open spool file " + id));
    return UniqueFd(fd);
}

void Spool::remove(const std::string& id) {
    std::string name;
    {
        std::lock_guard lock(mutex_);
        if (free_.size() < recycle_max_) name = "f" + ids_.next();
    }
    struct stat st {};
    bool kept = !name.empty() && ::fstatat(msg_dir_.get(), id.c_str(), &st, 0) == 0 &&
                static_cast<std::uint64_t>(st.st_size) <= kRecycleMaxFileSize &&
                ::renameat(msg_dir_.get(), id.c_str(), free_dir_.get(), name.c_str()) == 0;
    if (kept) {
        std::lock_guard lock(mutex_);
        free_.push_back(FreeFile{std::move(name), static_cast<std::uint64_t>(st.st_size)});
    } else {
        ::unlinkat(msg_dir_.get(), id.c_str(), 0);
    }
    forget_state(id);
}

void Spool::forget_state(const std::string& id) {
    bool had = false;
    {
        std::lock_guard lock(mutex_);
        had = has_state_.erase(id) > 0;
    }
    if (had) ::unlinkat(state_dir_.get(), id.c_str(), 0);
}

std::size_t Spool::recycled() const {
    std::lock_guard lock(mutex_);
    return free_.size();
}

std::uint64_t Spool::free_space(std::uint64_t plenty) const {
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        // A recent answer that left a wide margin still holds: asked once a message otherwise.
        if (plenty != 0 && free_cached_ >= plenty && now - free_checked_ < kFreeSpaceTtl)
            return free_cached_;
    }
    struct statvfs st {};
    std::uint64_t free = ::fstatvfs(msg_dir_.get(), &st) != 0
                             ? UINT64_MAX
                             : static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    std::lock_guard lock(mutex_);
    free_cached_ = free;
    free_checked_ = now;
    return free;
}

}  // namespace tern::spool
