// Spool: the durable message store on local disk. Writes a message file while the body streams
// in, commits it with a group sync, keeps a per-message state log, and recovers after a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "base/queue_id.h"
#include "base/unique_fd.h"
#include "spool/group_sync.h"
#include "spool/message.h"

namespace tern::spool {

// A message being written. Owned by the session that receives it; the first failed write
// is remembered and reported by Spool::finish().
class MessageWriter {
  public:
    const std::string& id() const { return message_.id; }
    int fd() const { return fd_.get(); }
    // Appends message text. Errors are latched: later appends do nothing.
    void append(std::string_view bytes);
    const Message& message() const { return message_; }
    std::uint64_t body_length() const { return body_length_; }
    // The header edits of the pipeline, stored with the message by Spool::finish();
    // `delta` is the octets they add to the text.
    void set_edits(std::vector<message::HeaderEdit> edits, long long delta) {
        message_.edits = std::move(edits);
        message_.edits_delta = delta;
    }
    // The envelope as the pipeline changed it (a milter's chgfrom, addrcpt, delrcpt): a copy of
    // message() with a new sender, DSN parameters or recipients. Stored after the text by
    // Spool::finish (format 3); the one at the head of the file stays as it was written.
    void set_envelope(Message changed);
    // A body that replaces the received one (CRLF line ends), stored after the text (format 3).
    // The edits' delta must count it (MessageOutcome::body_delta).
    void set_body(std::string body) { body_ = std::move(body); }

  private:
    friend class Spool;
    // Text is gathered up to this many octets before a write: a small message costs one.
    static constexpr std::size_t kWriteBatch = 32 * 1024;
    void flush();  // writes what is gathered; a failure is latched in error_
    Message message_;
    std::string pending_;  // gathered text not yet written
    UniqueFd fd_;
    std::uint64_t envelope_length_ = 0;
    std::uint64_t body_length_ = 0;
    std::uint32_t crc_ = 0;
    std::uint64_t stale_size_ = 0;     // a recycled file's old length, cut off by finish()
    bool envelope_changed_ = false;    // set_envelope was called
    std::optional<std::string> body_;  // set_body's body
    std::optional<Error> error_;
};

// A message file recovery could not load although it may hold an acknowledged message: moved
// to quarantine/ with its state log, never deleted or reused (docs/spool.md).
struct QuarantinedFile {
    std::string name;        // the file name: normally the queue id
    std::string reason;      // why it did not load: "CRC mismatch", "read error: ..."
    std::int64_t when = 0;   // unix seconds it was quarantined
    std::uint64_t size = 0;  // octets
};

struct RecoveryReport {
    std::size_t resumed = 0;                   // committed messages with work left
    std::size_t removed = 0;                   // half-written files (never acknowledged) removed
    std::size_t finished = 0;                  // complete messages whose files were still there
    std::size_t repaired = 0;                  // state logs cut back to their last whole line
    std::vector<QuarantinedFile> quarantined;  // damaged files moved aside this time
};

// The files in <spool>/quarantine, oldest first; for `tern queue quarantine`.
std::vector<QuarantinedFile> list_quarantine(const std::string& spool_dir);

// Files of finished messages kept for reuse: reusing an inode is much cheaper than creating one
// and unlinking another (inode allocation scans on ext4). Larger files are never kept.
inline constexpr std::uint64_t kRecycleMaxFileSize = 1024 * 1024;

class Spool {
  public:
    // Opens (creating when missing, durably) <dir>/msg, state, free and quarantine. Up to
    // `recycle_files` files of finished messages are kept in free/ for reuse; 0 = none.
    static Result<std::unique_ptr<Spool>> open(const std::string& dir, std::size_t group_commit_max,
                                               std::size_t recycle_files = 0);

    // Starts a message: assigns the queue id, creates its file and writes the envelope.
    Result<std::unique_ptr<MessageWriter>> create(Message message);

    // Writes the commit trailer. The caller then makes the file durable with
    // group_sync().submit(writer.fd(), msg_dir_fd()) before acknowledging the message.
    // On error the file is removed.
    Result<Message> finish(MessageWriter& writer);

    // Sets the commit mark, once the sync after finish() succeeded and before the message is
    // acknowledged: a damaged file with the mark was acknowledged (quarantined at recovery).
    void mark_committed(MessageWriter& writer);

    // Removes a message that was not (or not successfully) committed.
    void discard(MessageWriter& writer);

    // Appends state-log lines for message `id`; returns the open log for the caller to sync
    // with group_sync().submit(fd, state_dir_fd()) and then close. A failed write is cut off
    // again, so the log never ends in a partial line that the next append would be glued to.
    Result<UniqueFd> append_state(const std::string& id, std::string_view lines);

    // Opens the message file for reading (delivery reads body_offset..+body_length).
    Result<UniqueFd> open_message(const std::string& id) const;

    // Removes a message's files (delivered and reported, or deleted by an operator); the
    // message file may be kept in free/ for reuse. The message file goes first: a crash in
    // between leaves a state log without a message, which recovery removes, never the reverse.
    // The caller makes it durable with a sync of msg_dir_fd() and state_dir_fd().
    void remove(const std::string& id);

    // Files kept for reuse now.
    std::size_t recycled() const;

    // Reads every message file: committed ones with work left are returned with their state
    // applied (a torn last line of a state log is cut off); files never committed are removed;
    // committed files that fail to load are quarantined; finished ones are cleaned up.
    Result<RecoveryReport> recover(std::vector<Message>& out);

    // Free octets on the spool's filesystem for unprivileged writers. With `plenty`, an answer
    // of at least that many octets from the last kFreeSpaceTtl is given again without asking
    // the filesystem (one statfs a message is measurable); a smaller one is always fresh.
    std::uint64_t free_space(std::uint64_t plenty = 0) const;
    static constexpr std::chrono::milliseconds kFreeSpaceTtl{200};

    GroupSync& group_sync() { return *sync_; }
    int msg_dir_fd() const { return msg_dir_.get(); }
    int state_dir_fd() const { return state_dir_.get(); }
    const std::string& dir() const { return dir_; }
    std::string message_path(const std::string& id) const;

  private:
    Spool() = default;
    std::string state_path(const std::string& id) const;
    struct Damage {
        bool committed = false;   // the file carries the commit mark (it was acknowledged)
        bool unreadable = false;  // an I/O error: nothing can be concluded from its content
        std::string reason;
    };
    std::expected<Message, Damage> load(const std::string& id, RecoveryReport& report);
    Result<void> replay_state(const std::string& id, Message& message, RecoveryReport& report);
    Result<void> quarantine(const std::string& name, const std::string& reason,
                            RecoveryReport& report);
    // Opens a kept file renamed to msg/<id>; an invalid fd when none is kept.
    UniqueFd reuse(const std::string& id, std::uint64_t& old_size);
    void forget_state(const std::string& id);
    void recover_free();

    std::string dir_;
    UniqueFd msg_dir_;
    UniqueFd state_dir_;
    UniqueFd free_dir_;
    UniqueFd quarantine_dir_;
    QueueIdGenerator ids_;
    std::unique_ptr<GroupSync> sync_;

    struct FreeFile {
        std::string name;        // in free/
        std::uint64_t size = 0;  // octets; UINT64_MAX when unknown
    };
    mutable std::mutex mutex_;               // guards the members below
    std::size_t recycle_max_ = 0;            // files kept in free/ at most
    std::vector<FreeFile> free_;             // files in free/
    mutable std::uint64_t free_cached_ = 0;  // free_space()'s last answer ...
    mutable std::chrono::steady_clock::time_point free_checked_{};  // ... and when
    std::unordered_set<std::string> has_state_;                     // ids with a state log
};

}  // namespace tern::spool
