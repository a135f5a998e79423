// SqliteStatement: one prepared SQLite statement, finalised on scope exit, with chained binds
// whose first error sticks (step() returns it). Header-only: the components that use it link
// SQLite themselves (auth's accounts, the suppression list).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace tern
