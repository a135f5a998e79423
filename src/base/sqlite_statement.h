// SqliteStatement: one prepared SQLite statement, finalised on scope exit, with chained binds
// whose first error sticks (step() returns it); SqliteTransaction; open_durable_sqlite(): a
// database file that keeps what it committed. Header-only: the components that use them link SQLite
// themselves (auth's accounts, the suppression list, the API's idempotency keys).
#pragma once

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"

namespace tern {

class SqliteStatement {
  public:
    SqliteStatement(sqlite3* db, std::string_view sql) {
        rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    }
    ~SqliteStatement() { sqlite3_finalize(stmt_); }
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& text(int i, std::string_view v) {
        if (rc_ == SQLITE_OK)
            rc_ =
                sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    SqliteStatement& blob(int i, std::string_view v) {
        if (rc_ == SQLITE_OK)
            rc_ =
                sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    SqliteStatement& integer(int i, std::int64_t v) {
        if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    // SQLITE_ROW, SQLITE_DONE or an error code (also one from preparing or binding).
    int step() {
        if (rc_ != SQLITE_OK) return rc_;
        return sqlite3_step(stmt_);
    }
    // Makes it ready to run again with new values.
    void reset() {
        if (!stmt_) return;
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::string column(int i) const {
        const void* p = sqlite3_column_blob(stmt_, i);
        int n = sqlite3_column_bytes(stmt_, i);
        return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
                 : std::string();
    }
    std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

  private:
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_OK;
};

// kIo: `what` and SQLite's message of the connection's last error.
inline Error sqlite_error(sqlite3* db, std::string_view what) {
    return Error{ErrorCode::kIo, std::string(what) + ": " + sqlite3_errmsg(db)};
}

// Runs statements that return no rows; `what` names the step in an error.
inline Result<void> sqlite_exec(sqlite3* db, const char* sql, std::string_view what) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return std::unexpected(sqlite_error(db, what));
    return {};
}

// A transaction begun with `begin` ("BEGIN", "BEGIN IMMEDIATE"), rolled back unless committed.
// Statements of it must be finalised (out of scope) before commit().
class SqliteTransaction {
  public:
    SqliteTransaction(sqlite3* db, const char* begin) : db_(db) {
        ok_ = sqlite3_exec(db, begin, nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    ~SqliteTransaction() {
        if (ok_ && !done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    bool ok() const { return ok_; }
    Result<void> commit() {
        done_ = true;
        return sqlite_exec(db_, "COMMIT", "committing");
    }

  private:
    sqlite3* db_;
    bool ok_ = false;
    bool done_ = false;
};

// The SQLite file at `path`, made (mode 0600, its directory too) when absent, opened without
// SQLite's mutex (one thread per connection), in WAL mode with a sync at every commit and a busy
// time-out of `busy_ms`. The caller closes it (sqlite3_close_v2).
inline Result<sqlite3*> open_durable_sqlite(const std::string& path, int busy_ms) {
    std::filesystem::path file(path);
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return fail(ErrorCode::kIo, path + ": cannot create its directory: " + ec.message());
    // SQLite would make the file 0644.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, path));
    ::close(fd);
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto failed = [&](std::string what) {
        std::string why = path + ": " + what + (db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close_v2(db);
        return fail(ErrorCode::kIo, why);
    };
    if (rc != SQLITE_OK) return failed("");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_ms);
    {
        SqliteStatement mode(db, "PRAGMA journal_mode = WAL");
        if (mode.step() != SQLITE_ROW) return failed("WAL mode: ");
    }
    if (sqlite3_exec(db, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK)
        return failed("synchronous: ");
    return db;
}

}  // namespace tern
