// ApiKeys: the API key file (see api_keys.h). Only digests are stored: the file leaking gives no
// key; keys carry 256 random bits, so a plain SHA-256 (no slow hash) cannot be reversed.
#include "auth/api_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "auth/crypto.h"
#include "base/durable_dirs.h"
#include "base/text.h"
#include "base/unique_fd.h"

namespace tern::auth {
namespace {

constexpr std::string_view kKeyPrefix = "tern_";

}  // namespace

bool ApiKey::allows(std::string_view domain) const {
    if (domains.empty()) return true;
    std::string d = ascii_lower(domain);
    for (const auto& allowed : domains) {
        if (allowed == d) return true;
        if (allowed.starts_with("*.")) {
            std::string_view parent = std::string_view(allowed).substr(1);  // ".example.org"
            if (d.size() > parent.size() && d.ends_with(parent)) return true;
        }
    }
    return false;
}

bool valid_key_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
            return false;
    return true;
}

bool valid_key_domain(std::string_view domain) {
    // "*.com" would be every .com sender: a wildcard needs at least two labels under it.
    if (domain.starts_with("*.")) {
        domain.remove_prefix(2);
        if (domain.find('.') == std::string_view::npos) return false;
    }
    return is_dns_name(domain);
}

Result<std::string> make_api_key() {
    auto bytes = random_bytes(32);
    if (!bytes) return std::unexpected(bytes.error());
    return std::string(kKeyPrefix) + hex_lower(*bytes);
}

std::string api_key_digest(std::string_view key) {
    return hex_lower(sha256(key));
}

Result<std::vector<ApiKey>> read_api_keys(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::vector<ApiKey>{};
        return std::unexpected(Error::from_errno(errno, "open " + path));
    }
    std::vector<ApiKey> keys;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        auto words = split_blanks(line);
        auto bad = [&](std::string_view why) {
            return fail(ErrorCode::kInvalid,
                        path + ":" + std::to_string(number) + ": " + std::string(why));
        };
        if (words.size() != 4) return bad("expected NAME DIGEST CREATED DOMAINS");
        ApiKey key;
        key.name = std::string(words[0]);
        if (!valid_key_name(key.name)) return bad("invalid key name");
        key.digest = std::string(words[1]);
        if (key.digest.size() != 64 ||
            key.digest.find_first_not_of("0123456789abcdef") != std::string::npos)
            return bad("the digest is not 64 hex digits");
        auto [end, ec] =
            std::from_chars(words[2].data(), words[2].data() + words[2].size(), key.created);
        if (ec != std::errc() || end != words[2].data() + words[2].size())
            return bad("the creation time is not a number");
        if (words[3] != "-") {
            std::string_view list = words[3];
            while (!list.empty()) {
                auto comma = list.find(',');
                std::string domain = ascii_lower(list.substr(0, comma));
                if (!valid_key_domain(domain)) return bad("invalid domain '" + domain + "'");
                key.domains.push_back(std::move(domain));
                list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
            }
            if (key.domains.empty()) return bad("no domain");
        }
        for (const auto& other : keys)
            if (other.name == key.name) return bad("the name is listed twice");
        keys.push_back(std::move(key));
    }
    return keys;
}

Result<void> write_api_keys(const std::string& path, const std::vector<ApiKey>& keys,
                            std::optional<std::pair<uid_t, gid_t>> owner) {
    std::ostringstream text;
    text << "# Tern API keys, written by `tern apikey` (docs/api.md): NAME SHA256 CREATED "
            "DOMAINS\n";
    for (const auto& key : keys) {
        text << key.name << ' ' << key.digest << ' ' << key.created << ' ';
        if (key.domains.empty()) text << '-';
        for (std::size_t i = 0; i < key.domains.size(); ++i)
            text << (i ? "," : "") << key.domains[i];
        text << '\n';
    }
    std::string dir = parent_directory(path);
    if (auto r = make_durable_dirs(dir, 0700); !r) return r;
    std::string temporary = path + ".tmp";
    UniqueFd fd(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "create " + temporary));
    std::string bytes = text.str();
    std::string_view rest = bytes;
    while (!rest.empty()) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::unlink(temporary.c_str());
            return std::unexpected(Error::from_errno(err, "write " + temporary));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (owner && ::fchown(fd.get(), owner->first, owner->second) != 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return std::unexpected(Error::from_errno(err, "chown " + temporary));
    }
    if (::fsync(fd.get()) != 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return std::unexpected(Error::from_errno(err, "fsync " + temporary));
    }
    fd.reset();
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return std::unexpected(Error::from_errno(err, "rename " + temporary));
    }
    return sync_dir(dir);
}

void ApiKeyStore::refresh() {
    struct stat st {};
    Signature now;
    if (::stat(path_.c_str(), &st) == 0) {
        now.inode = st.st_ino;
        now.size = st.st_size;
        now.mtime_ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    } else if (errno != ENOENT) {
        error_ = Error::from_errno(errno, "stat " + path_).message;
        keys_.clear();  // fails closed, as below
        seen_ = kUnread;
        return;
    }
    if (now == seen_) return;
    auto keys = read_api_keys(path_);
    if (!keys) {
        // Fails closed: a key deleted from a file the daemon cannot read must not keep working.
        // The next lookup reads again, whatever the file's signature then.
        error_ = keys.error().message;
        keys_.clear();
        seen_ = kUnread;
        return;
    }
    keys_ = std::move(*keys);
    error_.clear();
    seen_ = now;
}

std::optional<ApiKey> ApiKeyStore::find(std::string_view presented) {
    if (!presented.starts_with(kKeyPrefix)) return std::nullopt;
    std::string digest = api_key_digest(presented);
    std::lock_guard lock(mutex_);
    refresh();
    for (const auto& key : keys_)
        if (equal_constant_time(key.digest, digest)) return key;
    return std::nullopt;
}

std::string ApiKeyStore::error() {
    std::lock_guard lock(mutex_);
    return error_;
}

}  // namespace tern::auth
