// Idempotency keys of the sending API (docs/api.md; draft-ietf-httpapi-idempotency-key-header):
// a client that sends `Idempotency-Key: K` with a request may send it again (a time-out, a
// restart) and gets the first answer again instead of a second set of messages. Kept per API key
// in an SQLite file of the data directory: the key, a digest of the request body, and the answer
// once there is one. Used only by the daemon, through a DbWorker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

struct sqlite3;

namespace tern::api {

// True when `key` may be an Idempotency-Key: 1 to 255 visible ASCII characters.
bool valid_idempotency_key(std::string_view key);

// What begin() found.
struct IdempotencyClaim {
    enum class Kind {
        kStarted,   // the request is ours to run; finish() or abandon() it
        kRunning,   // the same key is being run by another request: 409
        kMismatch,  // the key was used with another body: 422
        kDone,      // answered before: send `status` and `body` again
    };
    Kind kind = Kind::kStarted;
    int status = 0;
    std::string body;
};

class IdempotencyDb {
  public:
    // Opens `path` (made with mode 0600 when absent). Rows of requests that were running when
    // the last daemon stopped are dropped: no request outlives its daemon, and a client that
    // tries again must not be told 409 for ever.
    static Result<std::unique_ptr<IdempotencyDb>> open(const std::string& path);
    ~IdempotencyDb();
    IdempotencyDb(const IdempotencyDb&) = delete;
    IdempotencyDb& operator=(const IdempotencyDb&) = delete;

    // Claims (`owner`, `key`) for a request whose body has `digest`, at `now`; a row older than
    // `retention` seconds is forgotten first (and, now and then, every such row).
    Result<IdempotencyClaim> begin(std::string_view owner, std::string_view key,
                                   std::string_view digest, std::int64_t now,
                                   std::int64_t retention);
    // Keeps the answer of a started request, to be sent again.
    Result<void> finish(std::string_view owner, std::string_view key, int status,
                        std::string_view body);
    // Forgets a started request that has no answer worth keeping (a 503: try again).
    Result<void> abandon(std::string_view owner, std::string_view key);

  private:
    explicit IdempotencyDb(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::uint64_t begun_ = 0;  // for the occasional purge
};

}  // namespace tern::api
