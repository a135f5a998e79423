// Maildir delivery (https://cr.yp.to/proto/maildir.html): a unique file in tmp/ with LF line
// ends, moved to new/. User names are checked again so that none can lead outside the root.
#include "delivery/maildir.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <vector>

#include "base/durable_dirs.h"
#include "delivery/crlf_to_lf.h"

namespace tern::delivery {
namespace {

// A file name is unique only if no two deliveries of this process share a counter value, across
// every Maildir object; hence one counter per process rather than one per object.
std::atomic<std::uint64_t> delivery_counter{0};

// Attempts at a fresh name when one already exists in tmp/ (a clock step back, a reused pid).
constexpr int kMaxNameAttempts = 8;

// Size of one read of the spooled message: the message is converted chunk by chunk, never held
// whole in memory.
constexpr std::size_t kCopyBufferSize = 64 * 1024;

bool valid_user(std::string_view user) {
    if (user.empty() || user == "." || user == "..") return false;
    for (unsigned char c : user) {
        if (c == '/' || c < 0x20 || c == 0x7f) return false;
    }
    return true;
}

// The Maildir specification asks for '/' and ':' in the host name to be written as octal
// escapes, since '/' separates paths and ':' starts the info part of a file name.
std::string escape_hostname(std::string_view hostname) {
    std::string out;
    for (char c : hostname) {
        if (c == '/') {
            out += "\\057";
        } else if (c == ':') {
            out += "\\072";
        } else {
            out += c;
        }
    }
    return out.empty() ? "localhost" : out;
}

}  // namespace

Result<void> Maildir::fsync_dir(const std::string& path) {
    int fd = io_.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open " + path));
    int rc = io_.fsync(fd);
    int err = errno;
    io_.close(fd);
    if (rc != 0) return std::unexpected(Error::from_errno(err, "fsync " + path));
    return {};
}

// mkdir -p with mode 0700. Each directory created is recorded in `created` so that its parent
// can be synced.
Result<void> Maildir::make_dirs(const std::string& path, std::vector<std::string>& created) {
    if (io_.mkdir(path, 0700) == 0) {
        created.push_back(path);
        return {};
    }
    int err = errno;
    if (err == EEXIST) {
        struct stat st {};
        if (io_.stat(path, &st) != 0) {
            return std::unexpected(Error::from_errno(errno, "stat " + path));
        }
        if (!S_ISDIR(st.st_mode)) {
            return std::unexpected(Error::from_errno(ENOTDIR, "mkdir " + path));
        }
        return {};
    }
    if (err != ENOENT || path.find('/') == std::string::npos) {
        return std::unexpected(Error::from_errno(err, "mkdir " + path));
    }
    Result<void> parent = make_dirs(parent_directory(path), created);
    if (!parent) return parent;
    if (io_.mkdir(path, 0700) != 0 && errno != EEXIST) {
        return std::unexpected(Error::from_errno(errno, "mkdir " + path));
    }
    created.push_back(path);
    return {};
}

// Creates tmp/, new/ and cur/ where missing, then syncs the directory above each directory it
// created, so that a Maildir made for this delivery survives a crash.
Result<void> Maildir::make_maildir(const std::string& maildir) {
    std::vector<std::string> created;
    for (const char* sub : {"/tmp", "/new", "/cur"}) {
        Result<void> made = make_dirs(maildir + sub, created);
        if (!made) return made;
    }
    std::vector<std::string> synced;
    for (const std::string& dir : created) {
        std::string parent = parent_directory(dir);
        if (std::find(synced.begin(), synced.end(), parent) != synced.end()) continue;
        Result<void> done = fsync_dir(parent);
        if (!done) return done;
        synced.push_back(parent);
    }
    return {};
}

// Writes all of `data`, retrying short writes. Returns 0 or an errno value.
int Maildir::write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = io_.write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

// Writes `prefix` and `length` octets of `source_fd` from `offset` to `fd` with CR LF turned
// into LF, reading with pread so the source's file position is left alone. Counts the octets
// written in `written`. Returns 0 or an errno value (ENODATA: the source is too short).
int Maildir::write_converted(int fd, std::string_view prefix, int source_fd, std::uint64_t offset,
                             std::uint64_t length, std::uint64_t& written) {
    CrlfToLf converter;
    std::string out;
    converter.convert(prefix, out);
    std::vector<char> buffer(std::min<std::uint64_t>(length, kCopyBufferSize));
    // Converted text is gathered up to a buffer's worth: a small message is one write.
    auto drain = [&]() {
        int err = write_all(fd, out);
        written += out.size();
        out.clear();
        return err;
    };
    while (length > 0) {
        std::size_t want = std::min<std::uint64_t>(length, buffer.size());
        ssize_t n = io_.pread(source_fd, buffer.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return ENODATA;
        converter.convert(std::string_view(buffer.data(), static_cast<std::size_t>(n)), out);
        offset += static_cast<std::uint64_t>(n);
        length -= static_cast<std::uint64_t>(n);
        if (out.size() >= kCopyBufferSize) {
            if (int err = drain(); err != 0) return err;
        }
    }
    converter.finish(out);
    return drain();
}

Maildir::Maildir(std::string root, std::string hostname, MaildirIo& io)
    : io_(io), root_(std::move(root)), hostname_(escape_hostname(hostname)), pid_(::getpid()) {
    while (root_.size() > 1 && root_.back() == '/')
        root_.pop_back();
}

std::string Maildir::path_of(std::string_view user) const {
    std::string path = root_;
    path += '/';
    path += user;
    path += "/Maildir";
    return path;
}

Result<MaildirFile> Maildir::write(std::string_view user, std::string_view prefix, int source_fd,
                                   std::uint64_t offset, std::uint64_t length) {
    if (!valid_user(user)) return fail(ErrorCode::kInvalid, "invalid Maildir user name");
    std::string maildir = path_of(user);
    bool known = false;
    {
        std::lock_guard lock(known_mutex_);
        known = known_.count(maildir) > 0;
    }
    if (!known) {
        Result<void> made = make_maildir(maildir);
        if (!made) return std::unexpected(std::move(made.error()));
        std::lock_guard lock(known_mutex_);
        known_.insert(maildir);
    }

    MaildirFile file;
    std::string unique;
    for (int attempt = 0; attempt < kMaxNameAttempts && file.fd < 0; ++attempt) {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        unique = std::to_string(now.tv_sec) + ".M" + std::to_string(now.tv_nsec / 1000) + "P" +
                 std::to_string(pid_) + "Q" + std::to_string(++delivery_counter) + "." + hostname_;
        file.tmp_path = maildir + "/tmp/" + unique;
        file.fd = io_.open(file.tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (file.fd < 0 && (errno == ENOENT || errno == ENOTDIR) && known) {
            // The Maildir went away since it was made: make it again, once.
            known = false;
            {
                std::lock_guard lock(known_mutex_);
                known_.erase(maildir);
            }
            Result<void> made = make_maildir(maildir);
            if (!made) return std::unexpected(std::move(made.error()));
            std::lock_guard lock(known_mutex_);
            known_.insert(maildir);
            continue;
        }
        if (file.fd < 0 && errno != EEXIST) break;
    }
    if (file.fd < 0) return std::unexpected(Error::from_errno(errno, "open " + file.tmp_path));

    int err = write_converted(file.fd, prefix, source_fd, offset, length, file.size);
    if (err != 0) {
        io_.close(file.fd);
        io_.unlink(file.tmp_path);
        if (err == ENODATA) {
            return fail(ErrorCode::kIo, "write " + file.tmp_path + ": source ends before " +
                                            std::to_string(offset + length));
        }
        return std::unexpected(Error::from_errno(err, "write " + file.tmp_path));
    }
    file.new_dir = maildir + "/new";
    file.new_path = file.new_dir + "/" + unique + ",S=" + std::to_string(file.size);
    return file;
}

Result<void> Maildir::publish(MaildirFile& file) {
    if (file.fd < 0) return fail(ErrorCode::kInvalid, "publish of a closed file " + file.tmp_path);
    int rc = io_.close(file.fd);
    file.fd = -1;  // closed even when close() reports an error
    if (rc != 0) return std::unexpected(Error::from_errno(errno, "close " + file.tmp_path));
    if (io_.rename(file.tmp_path, file.new_path) != 0) {
        return std::unexpected(Error::from_errno(errno, "rename " + file.tmp_path));
    }
    return {};
}

Result<UniqueFd> Maildir::open_directory(const std::string& path) {
    int fd = io_.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open " + path));
    return UniqueFd(fd);
}

Result<void> Maildir::unpublish(const MaildirFile& file) {
    if (io_.unlink(file.new_path) != 0) {
        return std::unexpected(Error::from_errno(errno, "unlink " + file.new_path));
    }
    return {};
}

void Maildir::discard(MaildirFile& file) {
    if (file.fd >= 0) io_.close(file.fd);
    file.fd = -1;
    if (!file.tmp_path.empty()) io_.unlink(file.tmp_path);
}

}  // namespace tern::delivery
