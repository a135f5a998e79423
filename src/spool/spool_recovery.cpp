// Spool recovery at start-up (docs/spool.md "Recovery"): every file in msg/ is loaded and
// proven by its trailer CRC; a file that fails is removed when it never got its commit mark
// (never acknowledged) and quarantined when it did, or when it cannot be read at all.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "base/unix_time.h"
#include "spool/file_io.h"
#include "spool/spool.h"
#include "spool/spool_format.h"

namespace tern::spool {
namespace {

constexpr std::string_view kStateSuffix = ".state";
constexpr std::string_view kReasonSuffix = ".reason";

}  // namespace

std::expected<Message, Spool::Damage> Spool::load(const std::string& id, RecoveryReport& report) {
    auto damaged = [](bool committed, std::string reason) {
        return std::unexpected(Damage{committed, false, std::move(reason)});
    };
    auto unreadable = [](std::string reason) {
        return std::unexpected(Damage{true, true, std::move(reason)});
    };
    auto fd = open_message(id);
    if (!fd) return unreadable(fd.error().message);
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return unreadable("fstat: " + std::string(strerror(errno)));
    bool committed = has_commit_mark(st.st_mode);
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (size < kTrailerSize)
        return damaged(committed, "only " + std::to_string(size) + " octets, no trailer");
    // A trailer of the third format (a changed envelope or body), of the second (an edits block
    // before it), else of the first.
    std::optional<Trailer> trailer;
    for (std::size_t tsize : {kTrailer3Size, kTrailer2Size, kTrailerSize}) {
        if (size < tsize) continue;
        std::string trailer_bytes(tsize, '\0');
        if (auto r =
                pread_all(fd->get(), trailer_bytes.data(), tsize, size - tsize, "spool file " + id);
            !r)
            return unreadable(r.error().message);
        trailer = decode_trailer(trailer_bytes);
        if (trailer) break;
    }
    if (!trailer) return damaged(committed, "no valid trailer at its end (truncated?)");
    if (trailer->envelope_length + trailer->body_length + trailer->after_text() + trailer->size !=
        size)
        return damaged(committed, "its trailer gives a length other than the file's " +
                                      std::to_string(size) + " octets");
    // The CRC over envelope and body proves that every block reached the disk.
    std::uint32_t crc = 0;
    std::string envelope;
    std::string edits_block;  // the blocks after the text up to the replacement body's octets
    std::uint64_t edits_at = trailer->envelope_length + trailer->body_length;
    std::uint64_t blocks_end =
        edits_at + trailer->edits_length + trailer->new_envelope_length +
        std::min<std::uint64_t>(trailer->body_block_length, kBodyMagic.size());
    std::string buf(1 << 20, '\0');
    for (std::uint64_t off = 0, left = size - trailer->size; left > 0;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        if (auto r = pread_all(fd->get(), buf.data(), n, off, "spool file " + id); !r)
            return unreadable(r.error().message);
        std::string_view chunk(buf.data(), n);
        crc = crc32_update(crc, chunk);
        if (off < trailer->envelope_length)
            envelope.append(chunk.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(
                                                n, trailer->envelope_length - off))));
        if (off + n > edits_at && off < blocks_end) {
            std::uint64_t from = off < edits_at ? edits_at - off : 0;
            std::uint64_t to = std::min<std::uint64_t>(n, blocks_end - off);
            edits_block.append(
                chunk.substr(static_cast<std::size_t>(from), static_cast<std::size_t>(to - from)));
        }
        off += n;
        left -= n;
    }
    if (crc != trailer->crc) return damaged(committed, "CRC mismatch: the content is damaged");
    auto message = decode_envelope(envelope);
    if (!message) return damaged(committed, "malformed envelope");
    // A reused file whose new content never reached the disk still holds its old message.
    if (message->id != id)
        return damaged(committed, "its envelope names another queue id, " + message->id);
    message->body_offset = trailer->envelope_length;
    message->body_length = trailer->body_length;
    std::string_view blocks = edits_block;
    if (trailer->edits_length > 0) {
        auto edits = decode_edits(blocks.substr(0, trailer->edits_length));
        if (!edits) return damaged(committed, "malformed block of header edits");
        message->edits = std::move(edits->first);
        message->edits_delta = edits->second;
    }
    blocks.remove_prefix(std::min<std::size_t>(blocks.size(), trailer->edits_length));
    if (trailer->new_envelope_length > 0) {
        // The envelope as the pipeline changed it replaces the one at the head.
        auto changed = decode_envelope(blocks.substr(0, trailer->new_envelope_length));
        if (!changed || changed->id != id)
            return damaged(committed, "malformed block of the changed envelope");
        changed->edits = std::move(message->edits);
        changed->edits_delta = message->edits_delta;
        changed->body_offset = message->body_offset;
        changed->body_length = message->body_length;
        message = std::move(changed);
    }
    blocks.remove_prefix(std::min<std::size_t>(blocks.size(), trailer->new_envelope_length));
    if (trailer->body_block_length > 0) {
        if (blocks != kBodyMagic) return damaged(committed, "malformed block of the new body");
        message->body_replaced = true;
        message->replaced_offset =
            edits_at + trailer->edits_length + trailer->new_envelope_length + kBodyMagic.size();
        message->replaced_length = trailer->body_block_length - kBodyMagic.size();
    }
    if (auto r = replay_state(id, *message, report); !r) return unreadable(r.error().message);
    return std::move(*message);
}

Result<void> Spool::replay_state(const std::string& id, Message& message, RecoveryReport& report) {
    int sfd = ::openat(state_dir_.get(), id.c_str(), O_RDWR | O_CLOEXEC);
    if (sfd < 0) {
        if (errno == ENOENT) return {};
        return std::unexpected(Error::from_errno(errno, "open state log " + id));
    }
    UniqueFd state(sfd);
    {
        std::lock_guard lock(mutex_);
        has_state_.insert(id);
    }
    std::string log;
    std::string buf(64 * 1024, '\0');
    while (true) {
        ssize_t n = ::read(sfd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(Error::from_errno(errno, "read state log " + id));
        if (n == 0) break;
        log.append(buf.data(), static_cast<std::size_t>(n));
    }
    // Each whole line is applied; a corrupt one fails its CRC and is skipped. A torn last line
    // (a crash or a full disk during an append) is cut off, so the next append starts a line.
    std::string_view rest = log;
    std::size_t whole = 0;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        if (nl == std::string_view::npos) break;
        apply_state_line(rest.substr(0, nl), message);
        rest.remove_prefix(nl + 1);
        whole += nl + 1;
    }
    if (whole < log.size()) {
        if (::ftruncate(sfd, static_cast<off_t>(whole)) != 0)
            return std::unexpected(Error::from_errno(errno, "cut the torn end of state log " + id));
        ++report.repaired;
    }
    return {};
}

Result<void> Spool::quarantine(const std::string& name, const std::string& reason,
                               RecoveryReport& report) {
    QuarantinedFile q{name, reason, unix_now(), 0};
    struct stat st {};
    if (::fstatat(msg_dir_.get(), name.c_str(), &st, 0) == 0)
        q.size = static_cast<std::uint64_t>(st.st_size);
    // A name already in quarantine (the same id damaged twice) gets a numbered suffix.
    std::string target = name;
    for (int n = 1; ::faccessat(quarantine_dir_.get(), target.c_str(), F_OK, 0) == 0; ++n)
        target = name + "." + std::to_string(n);
    if (::renameat(msg_dir_.get(), name.c_str(), quarantine_dir_.get(), target.c_str()) != 0)
        return std::unexpected(Error::from_errno(errno, "quarantine spool file " + name));
    q.name = target;
    std::string state = target + std::string(kStateSuffix);
    if (::renameat(state_dir_.get(), name.c_str(), quarantine_dir_.get(), state.c_str()) == 0) {
        std::lock_guard lock(mutex_);
        has_state_.erase(name);
    }
    std::string why = target + std::string(kReasonSuffix);
    UniqueFd rfd(::openat(quarantine_dir_.get(), why.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (rfd.valid()) {
        std::string text = reason + "\n";
        (void)write_all(rfd.get(), text, why);
        ::fsync(rfd.get());
    }
    report.quarantined.push_back(std::move(q));
    return {};
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
                free_.push_back(FreeFile{std::move(fresh), UINT64_MAX});  // length unknown
                continue;
            }
        }
        ::unlinkat(free_dir_.get(), name.c_str(), 0);
    }
}

Result<RecoveryReport> Spool::recover(std::vector<Message>& out) {
    RecoveryReport report;
    recover_free();
    for (const auto& name : list_dir(dir_ + "/msg")) {
        if (!QueueIdGenerator::valid(name)) {
            if (auto r = quarantine(name, "not a queue file name", report); !r)
                return std::unexpected(r.error());
            continue;
        }
        auto message = load(name, report);
        if (!message) {
            const Damage& d = message.error();
            if (!d.committed && !d.unreadable) {
                // Never acknowledged: no commit mark, so the 250 was never sent for it.
                remove(name);
                ++report.removed;
                continue;
            }
            if (auto r = quarantine(name, d.reason, report); !r) return std::unexpected(r.error());
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
    if (!report.quarantined.empty()) {
        // The moves must hold: a quarantined file must not reappear in msg/ after a crash.
        for (int fd : {quarantine_dir_.get(), msg_dir_.get(), state_dir_.get()})
            if (::fsync(fd) != 0)
                return std::unexpected(Error::from_errno(errno, "sync the spool directories"));
    }
    return report;
}

std::vector<QuarantinedFile> list_quarantine(const std::string& spool_dir) {
    std::string dir = spool_dir + "/quarantine";
    std::vector<QuarantinedFile> out;
    for (const auto& name : list_dir(dir)) {
        if (name.ends_with(kStateSuffix) || name.ends_with(kReasonSuffix)) continue;
        QuarantinedFile q;
        q.name = name;
        struct stat st {};
        if (::stat((dir + "/" + name).c_str(), &st) == 0)
            q.size = static_cast<std::uint64_t>(st.st_size);
        std::string why = dir + "/" + name + std::string(kReasonSuffix);
        if (::stat(why.c_str(), &st) == 0) q.when = static_cast<std::int64_t>(st.st_mtime);
        if (std::FILE* f = std::fopen(why.c_str(), "r")) {
            char line[1024];
            if (std::fgets(line, sizeof line, f)) q.reason = line;
            std::fclose(f);
            while (!q.reason.empty() && (q.reason.back() == '\n' || q.reason.back() == '\r'))
                q.reason.pop_back();
        }
        out.push_back(std::move(q));
    }
    std::sort(out.begin(), out.end(), [](const QuarantinedFile& a, const QuarantinedFile& b) {
        return a.when != b.when ? a.when < b.when : a.name < b.name;
    });
    return out;
}

}  // namespace tern::spool
