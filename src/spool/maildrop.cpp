// Maildrop files: encoding, a strict decoder (the files come from any local user), and the
// durable write of `tern sendmail`.
#include "spool/maildrop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>

#include "base/durable_dirs.h"
#include "base/unique_fd.h"
#include "spool/file_io.h"

namespace tern::spool {
namespace {

Error invalid(std::string what) {
    return Error{ErrorCode::kInvalid, "maildrop file: " + std::move(what)};
}

// Line values may hold no control characters (a value cannot carry a second line).
bool clean(std::string_view v) {
    for (char c : v)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

// "<address>" -> "address"; nullopt when not bracketed.
std::optional<std::string> unbracket(std::string_view v) {
    if (v.size() < 2 || v.front() != '<' || v.back() != '>') return std::nullopt;
    return std::string(v.substr(1, v.size() - 2));
}

}  // namespace

std::string encode_maildrop(const MaildropMessage& m) {
    std::string out(kMaildropMagic);
    out += "\nsender <" + m.sender + ">\n";
    for (const auto& r : m.recipients)
        out += "rcpt <" + r + ">\n";
    if (!m.notify.empty()) out += "notify " + m.notify + "\n";
    if (!m.ret.empty()) out += "ret " + m.ret + "\n";
    if (!m.envid.empty()) out += "envid " + m.envid + "\n";
    out += "\n";
    out += m.text;
    return out;
}

Result<MaildropMessage> decode_maildrop(std::string_view bytes) {
    MaildropMessage m;
    std::size_t pos = 0;
    bool first = true, sender_seen = false;
    while (true) {
        auto nl = bytes.find('\n', pos);
        if (nl == std::string_view::npos)
            return std::unexpected(invalid("no empty line before the message text"));
        std::string_view line = bytes.substr(pos, nl - pos);
        pos = nl + 1;
        if (first) {
            if (line != kMaildropMagic)
                return std::unexpected(invalid("not a maildrop file of version 1"));
            first = false;
            continue;
        }
        if (line.empty()) break;
        if (!clean(line)) return std::unexpected(invalid("a control character in a line"));
        auto space = line.find(' ');
        std::string_view key = line.substr(0, space);
        std::string_view value =
            space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
        if (key == "sender" || key == "rcpt") {
            auto address = unbracket(value);
            if (!address) return std::unexpected(invalid(std::string(key) + " without <...>"));
            if (key == "sender") {
                if (sender_seen) return std::unexpected(invalid("two sender lines"));
                sender_seen = true;
                m.sender = std::move(*address);
            } else {
                if (address->empty()) return std::unexpected(invalid("an empty recipient"));
                m.recipients.push_back(std::move(*address));
            }
        } else if (key == "notify") {
            m.notify = std::string(value);
        } else if (key == "ret") {
            m.ret = std::string(value);
        } else if (key == "envid") {
            m.envid = std::string(value);
        } else {
            return std::unexpected(invalid("unknown line \"" + std::string(key) + "\""));
        }
    }
    if (!sender_seen) return std::unexpected(invalid("no sender line"));
    if (m.recipients.empty()) return std::unexpected(invalid("no recipient"));
    m.text = std::string(bytes.substr(pos));
    return m;
}

Result<void> make_maildrop(const std::string& dir) {
    if (auto r = make_durable_dirs(dir, 0755); !r) return r;
    if (::chmod(dir.c_str(), kMaildropMode) != 0)
        return std::unexpected(Error::from_errno(errno, "chmod " + dir));
    return {};
}

Result<std::string> drop_message(const std::string& dir, const MaildropMessage& m) {
    // A name no other writer picks: time, process and a random part.
    std::random_device random;
    auto now = std::chrono::system_clock::now().time_since_epoch();
    std::string name =
        std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) + "." +
        std::to_string(::getpid()) + "." + std::to_string(random() % 1000000);
    std::string temp = dir + "/." + name;
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "cannot create " + temp));
    // Readable by the maildrop's group (the daemon's, by the directory's setgid bit) whatever
    // the writer's umask; no one else may read it.
    if (::fchmod(fd.get(), 0640) != 0) {
        auto e = Error::from_errno(errno, "chmod " + temp);
        ::unlink(temp.c_str());
        return std::unexpected(e);
    }
    if (auto w = write_all(fd.get(), encode_maildrop(m), temp); !w) {
        ::unlink(temp.c_str());
        return std::unexpected(w.error());
    }
    if (::fsync(fd.get()) != 0) {
        auto e = Error::from_errno(errno, "fsync " + temp);
        ::unlink(temp.c_str());
        return std::unexpected(e);
    }
    if (::rename(temp.c_str(), (dir + "/" + name).c_str()) != 0) {
        auto e = Error::from_errno(errno, "rename " + temp);
        ::unlink(temp.c_str());
        return std::unexpected(e);
    }
    // The rename made durable: a user may not open the maildrop (mode 3733) to fsync it, so the
    // file system is synced through the file (sendmail runs are few; this is not a hot path).
    if (::syncfs(fd.get()) != 0) return std::unexpected(Error::from_errno(errno, "syncfs " + dir));
    return name;
}

}  // namespace tern::spool
