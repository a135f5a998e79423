// ApiKeys: the keys of the HTTP sending API (`tern apikey`, docs/api.md), kept in a text file as
// SHA-256 digests with the sender domains each key may send from; the daemon reads the file again
// whenever it changes, so a key added or deleted counts from the next request.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace tern::auth {

struct ApiKey {
    std::string name;                  // [A-Za-z0-9._-], 1..64 characters, unique in the file
    std::string digest;                // hex SHA-256 of the key; the key itself is never stored
    std::vector<std::string> domains;  // lower case; "*.example.org" covers its subdomains
    std::int64_t created = 0;          // Unix time

    // True when mail from `domain` (any case) may be sent with this key.
    bool allows(std::string_view domain) const;
};

// True when `name` is a usable key name.
bool valid_key_name(std::string_view name);
// True when `domain` may be listed for a key: a domain name, or "*." and one.
bool valid_key_domain(std::string_view domain);

// A new key: "tern_" and 64 hex digits (256 random bits).
Result<std::string> make_api_key();
// The digest stored for `key`.
std::string api_key_digest(std::string_view key);

// The keys of the file at `path`: one line each, "NAME DIGEST CREATED DOMAIN,DOMAIN" ("-" for no
// domain restriction, which only an operator's explicit `--domains '*'` writes); '#' lines are
// comments. A missing file has no keys; a malformed line is an error naming its number.
Result<std::vector<ApiKey>> read_api_keys(const std::string& path);

// Writes `keys` to `path` durably (a temporary file, fsync, rename, directory fsync) with mode
// 0600, owned by `owner` when given (the daemon's user, so that it can read the file).
Result<void> write_api_keys(const std::string& path, const std::vector<ApiKey>& keys,
                            std::optional<std::pair<uid_t, gid_t>> owner);

// The daemon's view of the key file: read again when its inode, size or time changed.
// Thread-safe; one stat(2) per lookup.
class ApiKeyStore {
  public:
    explicit ApiKeyStore(std::string path) : path_(std::move(path)) {}

    // The key presented (as sent in "Authorization: Bearer KEY"), or nullopt when it is unknown
    // or the file cannot be read or parsed (then no key is valid, until it can: a key deleted
    // must not keep working; the caller logs `error()`).
    std::optional<ApiKey> find(std::string_view presented);
    // Why the file could not be read at the last lookup; empty when it could.
    std::string error();

  private:
    void refresh();

    std::string path_;
    std::mutex mutex_;
    std::vector<ApiKey> keys_;
    std::string error_;
    struct Signature {
        ino_t inode = 0;
        off_t size = -1;
        std::int64_t mtime_ns = -1;
        bool operator==(const Signature&) const = default;
    };
    // Matches no file (a missing one is {0, -1, -1}): after a failure, read again.
    static constexpr Signature kUnread{0, -2, -2};
    Signature seen_{};
};

}  // namespace tern::auth
