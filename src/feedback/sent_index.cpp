// SentDb on SQLite: one table keyed by queue id, WAL mode; old rows purged every so many adds.
#include "feedback/sent_index.h"

#include "base/sqlite_statement.h"

namespace tern::feedback {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr std::uint64_t kPurgeEvery = 100;  // add() calls between purges of old rows

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS sent (
    id      TEXT PRIMARY KEY,  -- the queue id
    sender  TEXT NOT NULL,
    source  TEXT NOT NULL,
    auth    TEXT NOT NULL,
    created INTEGER NOT NULL,  -- Unix time
    recipients TEXT NOT NULL   -- one per line
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sent_created ON sent (created);
)";

}  // namespace

Result<std::unique_ptr<SentDb>> SentDb::open(const std::string& path) {
    auto opened = open_durable_sqlite(path, kBusyTimeoutMs);
    if (!opened) return std::unexpected(opened.error());
    std::unique_ptr<SentDb> db(new SentDb(*opened));
    if (auto r = sqlite_exec(db->db_, kSchema, path + ": schema"); !r)
        return std::unexpected(r.error());
    return db;
}

SentDb::~SentDb() {
    sqlite3_close_v2(db_);
}

Result<void> SentDb::add(const std::vector<SentOrigin>& rows, std::int64_t now,
                         std::int64_t retention) {
    if (++adds_ % kPurgeEvery == 1) {
        SqliteStatement purge(db_, "DELETE FROM sent WHERE created < ?1");
        if (purge.integer(1, now - retention).step() != SQLITE_DONE)
            return std::unexpected(sqlite_error(db_, "purging"));
    }
    SqliteTransaction transaction(db_, "BEGIN IMMEDIATE");
    if (!transaction.ok()) return std::unexpected(sqlite_error(db_, "beginning"));
    for (const auto& r : rows) {
        std::string recipients;
        for (const auto& a : r.recipients)
            recipients += a + "\n";
        SqliteStatement insert(db_, "INSERT OR REPLACE INTO sent VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (insert.text(1, r.id)
                .text(2, r.sender)
                .text(3, r.source)
                .text(4, r.auth)
                .integer(5, r.created)
                .text(6, recipients)
                .step() != SQLITE_DONE)
            return std::unexpected(sqlite_error(db_, "adding"));
    }
    return transaction.commit();
}

Result<std::optional<SentOrigin>> SentDb::find(std::string_view id) {
    SqliteStatement select(
        db_, "SELECT sender, source, auth, created, recipients FROM sent WHERE id = ?1");
    int rc = select.text(1, id).step();
    if (rc == SQLITE_DONE) return std::optional<SentOrigin>();
    if (rc != SQLITE_ROW) return std::unexpected(sqlite_error(db_, "looking up"));
    SentOrigin o{std::string(id),  select.column(0),     select.column(1),
                 select.column(2), select.column_int(3), {}};
    std::string list = select.column(4);
    for (std::size_t at = 0, nl; (nl = list.find('\n', at)) != std::string::npos; at = nl + 1)
        o.recipients.push_back(list.substr(at, nl - at));
    return o;
}

}  // namespace tern::feedback
