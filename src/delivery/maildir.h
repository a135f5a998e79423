// Maildir: delivery of one message into a user's Maildir (tmp/, then new/), in two steps so
// that the caller can make many files durable with one group sync between them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "delivery/maildir_io.h"

namespace tern::delivery {

// A message written into tmp/ and not yet visible to mail readers.
struct MaildirFile {
    int fd = -1;             // open for writing; closed by publish() or discard()
    std::string tmp_path;    // <root>/<user>/Maildir/tmp/<unique>
    std::string new_path;    // <root>/<user>/Maildir/new/<unique>
    std::string new_dir;     // <root>/<user>/Maildir/new, to fsync after the rename
    std::uint64_t size = 0;  // octets in the file (LF line ends), also written as ",S=" in new_path
};

class Maildir {
  public:
    // Mailboxes live in <root>/<user>/Maildir; every file call goes through `io`, which must
    // outlive this object.
    Maildir(std::string root, std::string hostname, MaildirIo& io);

    // Creates the user's Maildir when missing and writes `prefix` followed by `length` octets
    // of `source_fd` from `offset` into a new file in tmp/, each CR LF written as LF (Maildir
    // files end lines with LF; a lone CR is kept). The source is read in chunks, never whole.
    // The caller must make fd's data durable (io().submit) before publish().
    Result<MaildirFile> write(std::string_view user, std::string_view prefix, int source_fd,
                              std::uint64_t offset, std::uint64_t length);

    // Opens a directory (a file's new_dir) so that its entries can be made durable with
    // io().submit. Open it before publish(): a directory that cannot be synced must not
    // receive the file.
    Result<UniqueFd> open_directory(const std::string& path);

    // Closes the file and renames it into new/. The caller then syncs file.new_dir, and calls
    // unpublish() if that fails.
    Result<void> publish(MaildirFile& file);

    // Removes a published file from new/ (its directory could not be made durable, so the
    // recipient is retried and must not find a first copy there). Fails with kNotFound when a
    // mail reader has already moved it on.
    Result<void> unpublish(const MaildirFile& file);

    // Closes and removes a file that will not be published.
    void discard(MaildirFile& file);

    MaildirIo& io() { return io_; }

    // The user's Maildir directory path.
    std::string path_of(std::string_view user) const;

  private:
    Result<void> make_maildir(const std::string& maildir);
    Result<void> make_dirs(const std::string& path, std::vector<std::string>& created);
    Result<void> fsync_dir(const std::string& path);
    int write_converted(int fd, std::string_view prefix, int source_fd, std::uint64_t offset,
                        std::uint64_t length, std::uint64_t& written);
    int write_all(int fd, std::string_view data);

    MaildirIo& io_;
    std::string root_;
    std::string hostname_;  // for unique names: <sec>.M<usec>P<pid>Q<counter>.<hostname>
    int pid_;               // this process's (a daemon never forks after start-up)
    // Maildirs known to exist, so a delivery costs no mkdir calls; an entry is dropped when a
    // file cannot be created in its tmp/ (someone removed the Maildir).
    std::mutex known_mutex_;
    std::unordered_set<std::string> known_;
};

}  // namespace tern::delivery
