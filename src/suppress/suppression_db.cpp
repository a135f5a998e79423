// SuppressionDb on SQLite: one table keyed by (tenant, address), WAL mode with a sync at each
// commit (an unsubscribe that a crash could undo is a promise broken), prepared statements.
#include "suppress/suppression_db.h"

#include <sqlite3.h>

#include <cctype>

#include "base/sqlite_statement.h"
#include "base/text.h"
#include "mailauth/domain_name.h"

namespace tern::suppress {
namespace {

constexpr int kBusyTimeoutMs = 5000;  // `tern suppress` holds the write lock for milliseconds

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS suppressions (
    tenant  TEXT NOT NULL,     -- '' for the global list
    address TEXT NOT NULL,     -- normalized, see normalize_address()
    reason  TEXT NOT NULL,     -- bounce, complaint, unsubscribe, manual
    detail  TEXT NOT NULL,
    source  TEXT NOT NULL,
    created INTEGER NOT NULL,  -- Unix time
    PRIMARY KEY (tenant, address)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS suppressions_address ON suppressions (address);
PRAGMA user_version = 1;
)";

constexpr std::string_view kReasons[] = {"bounce", "complaint", "unsubscribe", "manual"};

Suppression row(const SqliteStatement& s) {
    Suppression e;
    e.tenant = s.column(0);
    e.address = s.column(1);
    e.reason = parse_reason(s.column(2)).value_or(Reason::kManual);
    e.detail = s.column(3);
    e.source = s.column(4);
    e.created = s.column_int(5);
    return e;
}

}  // namespace

std::string_view reason_name(Reason r) {
    return kReasons[static_cast<int>(r)];
}

std::optional<Reason> parse_reason(std::string_view name) {
    for (std::size_t i = 0; i < std::size(kReasons); ++i)
        if (kReasons[i] == name) return static_cast<Reason>(i);
    return std::nullopt;
}

std::string normalize_address(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return ascii_lower(address);
    std::string local(address.substr(0, at));
    std::string_view domain = address.substr(at + 1);
    // "bob"@ and bob@ are one mailbox (RFC 5321 section 4.1.2): a quoted local part that needs
    // no quotes is kept without them.
    if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
        std::string bare;
        bool escaped = false;
        for (char c : std::string_view(local).substr(1, local.size() - 2)) {
            if (!escaped && c == '\\') {
                escaped = true;
                continue;
            }
            escaped = false;
            bare += c;
        }
        auto atext = [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) ||
                   static_cast<unsigned char>(c) >= 0x80 ||
                   std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
        };
        bool dot_atom = !bare.empty() && bare.front() != '.' && bare.back() != '.' &&
                        bare.find("..") == std::string::npos;
        for (char c : bare)
            dot_atom = dot_atom && (c == '.' || atext(c));
        if (dot_atom) local = bare;
    }
    // A domain in one form: its A-label (a U-label and its xn-- form are one domain).
    std::string host;
    if (!domain.empty() && domain.front() != '[') {
        if (auto a = mailauth::to_a_label(domain)) host = *a;
    }
    if (host.empty()) host = std::string(domain);
    return ascii_lower(local) + "@" + ascii_lower(host);
}

bool valid_tenant(std::string_view tenant) {
    if (tenant.empty() || tenant.size() > 64) return false;
    for (char c : tenant)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    return true;
}

Result<std::unique_ptr<SuppressionDb>> SuppressionDb::open(const std::string& path) {
    auto opened = open_durable_sqlite(path, kBusyTimeoutMs);
    if (!opened) return std::unexpected(opened.error());
    sqlite3* db = *opened;
    std::unique_ptr<SuppressionDb> store(new SuppressionDb(db));
    if (auto r = sqlite_exec(db, kSchema, path + ": schema"); !r) return std::unexpected(r.error());
    {
        SqliteStatement check(db,
                              "SELECT count(*) FROM pragma_table_info('suppressions') WHERE "
                              "name IN ('tenant','address','reason','detail','source',"
                              "'created')");
        if (check.step() != SQLITE_ROW || check.column_int(0) != 6)
            return fail(ErrorCode::kIo, path + ": not a suppression list");
    }
    return store;
}

SuppressionDb::~SuppressionDb() {
    sqlite3_close_v2(db_);
}

Result<std::size_t> SuppressionDb::add(const std::vector<Suppression>& entries, bool replace) {
    SqliteTransaction t(db_, "BEGIN IMMEDIATE");
    if (!t.ok()) return std::unexpected(sqlite_error(db_, "beginning"));
    SqliteStatement insert(
        db_, replace ? "INSERT OR REPLACE INTO suppressions VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                     : "INSERT OR IGNORE INTO suppressions VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    SqliteStatement exists(db_, "SELECT 1 FROM suppressions WHERE tenant = ?1 AND address = ?2");
    std::size_t added = 0;
    for (const auto& e : entries) {
        exists.text(1, e.tenant).text(2, e.address);
        int found = exists.step();
        exists.reset();
        if (found != SQLITE_ROW && found != SQLITE_DONE)
            return std::unexpected(sqlite_error(db_, "looking up"));
        insert.text(1, e.tenant)
            .text(2, e.address)
            .text(3, reason_name(e.reason))
            .text(4, e.detail)
            .text(5, e.source)
            .integer(6, e.created);
        if (insert.step() != SQLITE_DONE) return std::unexpected(sqlite_error(db_, "adding"));
        insert.reset();
        if (found == SQLITE_DONE) ++added;
    }
    if (auto r = t.commit(); !r) return std::unexpected(r.error());
    return added;
}

Result<bool> SuppressionDb::remove(std::string_view tenant, std::string_view address) {
    SqliteStatement del(db_, "DELETE FROM suppressions WHERE tenant = ?1 AND address = ?2");
    if (del.text(1, tenant).text(2, address).step() != SQLITE_DONE)
        return std::unexpected(sqlite_error(db_, "deleting"));
    return sqlite3_changes(db_) > 0;
}

Result<std::vector<std::optional<Suppression>>> SuppressionDb::find(
    std::string_view tenant, const std::vector<std::string>& addresses) {
    SqliteTransaction t(db_, "BEGIN");
    if (!t.ok()) return std::unexpected(sqlite_error(db_, "beginning"));
    // The tenant's own entry before the global one.
    SqliteStatement select(db_,
                           "SELECT tenant, address, reason, detail, source, created FROM "
                           "suppressions WHERE address = ?2 AND (tenant = ?1 OR tenant = '') "
                           "ORDER BY tenant DESC LIMIT 1");
    std::vector<std::optional<Suppression>> found;
    found.reserve(addresses.size());
    for (const auto& a : addresses) {
        select.text(1, tenant).text(2, a);
        int rc = select.step();
        if (rc == SQLITE_ROW) {
            found.push_back(row(select));
        } else if (rc == SQLITE_DONE) {
            found.push_back(std::nullopt);
        } else {
            return std::unexpected(sqlite_error(db_, "looking up"));
        }
        select.reset();
    }
    (void)t.commit();
    return found;
}

Result<std::vector<Suppression>> SuppressionDb::list(std::optional<std::string> tenant,
                                                     std::string_view after_tenant,
                                                     std::string_view after_address,
                                                     std::size_t limit) {
    SqliteStatement select(
        db_, tenant ? "SELECT tenant, address, reason, detail, source, created FROM suppressions "
                      "WHERE tenant = ?1 AND address > ?3 ORDER BY tenant, address LIMIT ?4"
                    : "SELECT tenant, address, reason, detail, source, created FROM suppressions "
                      "WHERE (tenant, address) > (?2, ?3) ORDER BY tenant, address LIMIT ?4");
    select.text(1, tenant.value_or(""))
        .text(2, after_tenant)
        .text(3, after_address)
        .integer(4, static_cast<std::int64_t>(limit));
    std::vector<Suppression> out;
    while (true) {
        int rc = select.step();
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) return std::unexpected(sqlite_error(db_, "listing"));
        out.push_back(row(select));
    }
    return out;
}

Result<std::uint64_t> SuppressionDb::count() {
    SqliteStatement select(db_, "SELECT count(*) FROM suppressions");
    if (select.step() != SQLITE_ROW) return std::unexpected(sqlite_error(db_, "counting"));
    return static_cast<std::uint64_t>(select.column_int(0));
}

}  // namespace tern::suppress
