// Maildir: delivery of one message into a user's Maildir (tmp/, then new/), in two steps so
// that the caller can make many files durable with one group sync between them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/error.h"

namespace tern::delivery {

// A message written into tmp/ and not yet visible to mail readers.
struct MaildirFile {
    int fd = -1;             // open for writing; closed by publish() or discard()
    std::string tmp_path;    // <root>/<user>/Maildir/tmp/<unique>
    std::string new_path;    // <root>/<user>/Maildir/new/<unique>
    std::string new_dir;     // <root>/<user>/Maildir/new, to fsync after the rename
    std::uint64_t size = 0;  // octets written
};

class Maildir {
  public:
    // Mailboxes live in <root>/<user>/Maildir.
    explicit Maildir(std::string root, std::string hostname);

    // Creates the user's Maildir when missing and writes `prefix` followed by `length` octets
    // of `source_fd` from `offset` (copied in the kernel where possible) into a new file in
    // tmp/. The caller must make fd's data durable (fdatasync or a group sync) before publish().
    Result<MaildirFile> write(std::string_view user, std::string_view prefix, int source_fd,
                              std::uint64_t offset, std::uint64_t length);

    // Closes the file and renames it into new/. The caller then syncs file.new_dir.
    Result<void> publish(MaildirFile& file);

    // Closes and removes a file that will not be published.
    void discard(MaildirFile& file);

    // The user's Maildir directory path.
    std::string path_of(std::string_view user) const;

  private:
    std::string root_;
    std::string hostname_;  // for unique names: <sec>.M<usec>P<pid>Q<counter>.<hostname>
    // Maildirs known to exist, so a delivery costs no mkdir calls; an entry is dropped when a
    // file cannot be created in its tmp/ (someone removed the Maildir).
    std::mutex known_mutex_;
    std::unordered_set<std::string> known_;
};

}  // namespace tern::delivery
