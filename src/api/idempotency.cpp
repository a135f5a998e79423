// IdempotencyDb on SQLite: one table keyed by (API key name, Idempotency-Key), WAL mode with a
// sync at each commit (a stored answer must survive a crash as the messages it names do).
#include "api/idempotency.h"

#include <sqlite3.h>

#include "base/sqlite_statement.h"

namespace tern::api {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr std::uint64_t kPurgeEvery = 1000;  // begin() calls between purges of old rows

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS idempotency (
    owner   TEXT NOT NULL,     -- the API key's name
    key     TEXT NOT NULL,     -- the Idempotency-Key
    digest  TEXT NOT NULL,     -- SHA-256 of the request body, hex
    done    INTEGER NOT NULL,  -- 0 while the request runs
    status  INTEGER NOT NULL,
    body    TEXT NOT NULL,
    created INTEGER NOT NULL,  -- Unix time
    PRIMARY KEY (owner, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created);
DELETE FROM idempotency WHERE done = 0;
)";

}  // namespace

bool valid_idempotency_key(std::string_view key) {
    if (key.empty() || key.size() > 255) return false;
    for (char c : key)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

Result<std::unique_ptr<IdempotencyDb>> IdempotencyDb::open(const std::string& path) {
    auto opened = open_durable_sqlite(path, kBusyTimeoutMs);
    if (!opened) return std::unexpected(opened.error());
    sqlite3* db = *opened;
    std::unique_ptr<IdempotencyDb> store(new IdempotencyDb(db));
    if (auto r = sqlite_exec(db, kSchema, path + ": schema"); !r) return std::unexpected(r.error());
    return store;
}

IdempotencyDb::~IdempotencyDb() {
    sqlite3_close_v2(db_);
}

Result<IdempotencyClaim> IdempotencyDb::begin(std::string_view owner, std::string_view key,
                                              std::string_view digest, std::int64_t now,
                                              std::int64_t retention) {
    if (++begun_ % kPurgeEvery == 1) {
        SqliteStatement purge(db_, "DELETE FROM idempotency WHERE created < ?1 AND done = 1");
        if (purge.integer(1, now - retention).step() != SQLITE_DONE)
            return std::unexpected(sqlite_error(db_, "purging"));
    }
    SqliteTransaction transaction(db_, "BEGIN IMMEDIATE");
    if (!transaction.ok()) return std::unexpected(sqlite_error(db_, "beginning"));
    IdempotencyClaim claim;
    {
        SqliteStatement select(db_,
                               "SELECT digest, done, status, body, created FROM idempotency "
                               "WHERE owner = ?1 AND key = ?2");
        int rc = select.text(1, owner).text(2, key).step();
        if (rc == SQLITE_ROW && select.column_int(4) >= now - retention) {
            if (select.column(0) != digest) {
                claim.kind = IdempotencyClaim::Kind::kMismatch;
            } else if (select.column_int(1) == 0) {
                claim.kind = IdempotencyClaim::Kind::kRunning;
            } else {
                claim.kind = IdempotencyClaim::Kind::kDone;
                claim.status = static_cast<int>(select.column_int(2));
                claim.body = select.column(3);
            }
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            return std::unexpected(sqlite_error(db_, "looking up"));
        }
    }
    if (claim.kind == IdempotencyClaim::Kind::kStarted) {
        SqliteStatement insert(db_,
                               "INSERT OR REPLACE INTO idempotency VALUES (?1, ?2, ?3, 0, 0, '', "
                               "?4)");
        if (insert.text(1, owner).text(2, key).text(3, digest).integer(4, now).step() !=
            SQLITE_DONE)
            return std::unexpected(sqlite_error(db_, "claiming"));
    }
    if (auto r = transaction.commit(); !r) return std::unexpected(r.error());
    return claim;
}

Result<void> IdempotencyDb::finish(std::string_view owner, std::string_view key, int status,
                                   std::string_view body) {
    SqliteStatement update(db_,
                           "UPDATE idempotency SET done = 1, status = ?3, body = ?4 WHERE owner "
                           "= ?1 AND key = ?2");
    if (update.text(1, owner).text(2, key).integer(3, status).text(4, body).step() != SQLITE_DONE)
        return std::unexpected(sqlite_error(db_, "storing the answer"));
    return {};
}

Result<void> IdempotencyDb::abandon(std::string_view owner, std::string_view key) {
    SqliteStatement del(db_, "DELETE FROM idempotency WHERE owner = ?1 AND key = ?2");
    if (del.text(1, owner).text(2, key).step() != SQLITE_DONE)
        return std::unexpected(sqlite_error(db_, "forgetting"));
    return {};
}

}  // namespace tern::api
