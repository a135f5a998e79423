// GreylistDb: two tables keyed by triplet and by network, times in Unix milliseconds; WAL mode,
// so a batch costs one append and a sync of the log.
#include "policy/greylist_db.h"

#include <sqlite3.h>
#include <sys/stat.h>

namespace tern::policy {
namespace {

using std::chrono::milliseconds;

std::int64_t to_ms(GreylistClock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

GreylistClock::time_point from_ms(std::int64_t ms) {
    return GreylistClock::time_point(
        std::chrono::duration_cast<GreylistClock::duration>(milliseconds(ms)));
}

Error db_error(sqlite3* db, std::string_view what) {
    return Error{ErrorCode::kIo, std::string(what) + ": " + sqlite3_errmsg(db)};
}

// One prepared statement, finalized when it goes.
class Statement {
  public:
    Statement(sqlite3* db, const char* sql) {
        rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    bool ok() const { return rc_ == SQLITE_OK; }
    void text(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void integer(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    // Runs it once and makes it ready for the next values.
    bool run() {
        int rc = sqlite3_step(stmt_);
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        return rc == SQLITE_DONE;
    }
    sqlite3_stmt* get() { return stmt_; }

  private:
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_ERROR;
};

constexpr const char* kSchema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS greylist_triplets (key TEXT PRIMARY KEY, first_seen INTEGER NOT "
    "NULL, last_seen INTEGER NOT NULL, passed INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS greylist_passes (network TEXT PRIMARY KEY, count INTEGER NOT "
    "NULL, last INTEGER NOT NULL) WITHOUT ROWID;";

}  // namespace

Result<std::unique_ptr<GreylistDb>> GreylistDb::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<GreylistDb> out(new GreylistDb(db));
    if (rc != SQLITE_OK) return fail(ErrorCode::kIo, path + ": " + sqlite3_errmsg(db));
    ::chmod(path.c_str(), 0600);  // who mails whom is nobody else's business
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK)
        return std::unexpected(db_error(db, path));
    return out;
}

GreylistDb::~GreylistDb() {
    sqlite3_close_v2(db_);
}

Result<std::size_t> GreylistDb::load(Greylist& into, GreylistClock::time_point now) {
    std::size_t n = 0;
    {
        Statement s(db_, "SELECT key, first_seen, last_seen, passed FROM greylist_triplets");
        if (!s.ok()) return std::unexpected(db_error(db_, "greylist load"));
        while (sqlite3_step(s.get()) == SQLITE_ROW) {
            auto* key = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
            GreylistTriplet t{from_ms(sqlite3_column_int64(s.get(), 1)),
                              from_ms(sqlite3_column_int64(s.get(), 2)),
                              sqlite3_column_int64(s.get(), 3) != 0};
            into.restore(key ? key : "", t, now);
            ++n;
        }
    }
    Statement s(db_, "SELECT network, count, last FROM greylist_passes");
    if (!s.ok()) return std::unexpected(db_error(db_, "greylist load"));
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
        auto* net = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
        GreylistPasses p{static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 1)),
                         from_ms(sqlite3_column_int64(s.get(), 2))};
        into.restore_passes(net ? net : "", p, now);
    }
    return n;
}

Result<void> GreylistDb::write(const GreylistChanges& changes) {
    if (changes.empty()) return {};
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
        return std::unexpected(db_error(db_, "greylist write"));
    bool ok = true;
    {
        Statement put(db_,
                      "INSERT OR REPLACE INTO greylist_triplets (key, first_seen, last_seen, "
                      "passed) VALUES (?1, ?2, ?3, ?4)");
        Statement drop(db_, "DELETE FROM greylist_triplets WHERE key = ?1");
        Statement put_passes(
            db_,
            "INSERT OR REPLACE INTO greylist_passes (network, count, last) VALUES (?1, ?2, ?3)");
        Statement drop_passes(db_, "DELETE FROM greylist_passes WHERE network = ?1");
        ok = put.ok() && drop.ok() && put_passes.ok() && drop_passes.ok();
        for (const auto& [key, t] : changes.triplets) {
            if (!ok) break;
            put.text(1, key);
            put.integer(2, to_ms(t.first_seen));
            put.integer(3, to_ms(t.last_seen));
            put.integer(4, t.passed ? 1 : 0);
            ok = put.run();
        }
        for (const auto& key : changes.gone_triplets) {
            if (!ok) break;
            drop.text(1, key);
            ok = drop.run();
        }
        for (const auto& [net, p] : changes.passes) {
            if (!ok) break;
            put_passes.text(1, net);
            put_passes.integer(2, static_cast<std::int64_t>(p.count));
            put_passes.integer(3, to_ms(p.last));
            ok = put_passes.run();
        }
        for (const auto& net : changes.gone_passes) {
            if (!ok) break;
            drop_passes.text(1, net);
            ok = drop_passes.run();
        }
    }
    if (!ok) {
        auto e = db_error(db_, "greylist write");
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return std::unexpected(e);
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        auto e = db_error(db_, "greylist write");
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return std::unexpected(e);
    }
    return {};
}

}  // namespace tern::policy
