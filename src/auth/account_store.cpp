// AccountStore on SQLite: schema creation and versioning, WAL mode for concurrent readers, and
// the statements behind each operation. Secrets are made here, before the row is written.
#include "auth/account_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "auth/identity.h"
#include "base/sqlite_statement.h"

namespace tern::auth {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;  // a writer (`tern user`) holds the lock for milliseconds

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS accounts (
    address          TEXT PRIMARY KEY NOT NULL,  -- normalised, see identity.h
    password_hash    TEXT NOT NULL,              -- argon2id PHC string
    scram_salt       BLOB NOT NULL,
    scram_iterations INTEGER NOT NULL,
    scram_stored_key BLOB NOT NULL,
    scram_server_key BLOB NOT NULL,
    created          INTEGER NOT NULL,           -- Unix time
    password_changed INTEGER NOT NULL            -- Unix time
) WITHOUT ROWID;
PRAGMA user_version = 1;
)";

Error db_error(sqlite3* db, std::string_view what) {
    return Error{ErrorCode::kTemporary, std::string(what) + ": " + sqlite3_errmsg(db)};
}

using Statement = SqliteStatement;

// Runs statements that return no rows we need; `what` names the step in an error.
Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return std::unexpected(db_error(db, what));
    return {};
}

Result<void> prepare_schema(sqlite3* db) {
    std::string journal;
    {
        Statement mode(db, "PRAGMA journal_mode");
        if (mode.step() != SQLITE_ROW)
            return std::unexpected(db_error(db, "reading the journal mode"));
        journal = mode.column(0);
    }  // finalised: the mode cannot change while a statement runs
    if (journal != "wal") {
        if (auto r = exec(db, "PRAGMA journal_mode = WAL", "switching to WAL mode"); !r) return r;
    }
    // Deleted rows (old hashes) are overwritten, not left in free pages.
    if (auto r = exec(db, "PRAGMA secure_delete = ON", "setting secure_delete"); !r) return r;
    std::int64_t have = 0;
    {
        Statement version(db, "PRAGMA user_version");
        if (version.step() != SQLITE_ROW)
            return std::unexpected(db_error(db, "reading the schema version"));
        have = version.column_int(0);
    }
    if (have == kSchemaVersion) return {};
    if (have != 0)
        return fail(ErrorCode::kIo, "schema version " + std::to_string(have) +
                                        " is not one this Tern knows (" +
                                        std::to_string(kSchemaVersion) + ")");
    if (auto r = exec(db, "BEGIN IMMEDIATE", "creating the schema"); !r) return r;
    if (auto r = exec(db, kSchema, "creating the schema"); !r) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return r;
    }
    return exec(db, "COMMIT", "creating the schema");
}

bool constraint_failed(int rc) {
    return (rc & 0xff) == SQLITE_CONSTRAINT;
}

struct Secrets {
    std::string hash;
    ScramKeys scram;
};

Result<Secrets> make_secrets(std::string_view password, const HashOptions& options) {
    if (auto ok = check_password(password); !ok) return std::unexpected(ok.error());
    auto hash = hash_password(password, options.argon2);
    if (!hash) return std::unexpected(hash.error());
    auto scram = new_scram_keys(password, options.scram_iterations);
    if (!scram) return std::unexpected(scram.error());
    return Secrets{std::move(*hash), std::move(*scram)};
}

}  // namespace

Result<void> AccountStore::create_file(const std::string& path) {
    std::filesystem::path file(path);
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return fail(ErrorCode::kIo, path + ": cannot create its directory: " + ec.message());
    // SQLite would create the file with mode 0644; the hashes are nobody else's business.
    // O_EXCL: an existing file is never opened here, so the close() below can only drop locks
    // on a file that nobody had opened yet.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return {};
        return std::unexpected(Error::from_errno(errno, path));
    }
    ::close(fd);
    return {};
}

Result<std::unique_ptr<AccountStore>> AccountStore::open(const std::string& path,
                                                         HashOptions options) {
    // No SQLITE_OPEN_CREATE: the file is made by create_file, with its mode, and a database
    // deleted under a running daemon is not silently replaced by an empty one.
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto store = std::make_unique<AccountStore>(Passkey{}, db, options);
    if (rc != SQLITE_OK) return fail(ErrorCode::kIo, path + ": " + sqlite3_errmsg(db));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    if (auto ready = prepare_schema(db); !ready)
        return fail(ErrorCode::kIo, path + ": " + ready.error().message);
    return store;
}

AccountStore::~AccountStore() {
    sqlite3_close_v2(db_);
}

Result<int> AccountStore::write_secrets(const char* sql, const std::string& name,
                                        std::string_view password) {
    auto secrets = make_secrets(password, options_);
    if (!secrets) return std::unexpected(secrets.error());
    Statement write(db_, sql);
    return write.text(1, name)
        .text(2, secrets->hash)
        .blob(3, secrets->scram.salt)
        .integer(4, secrets->scram.iterations)
        .blob(5, secrets->scram.stored_key)
        .blob(6, secrets->scram.server_key)
        .integer(7, std::time(nullptr))
        .step();
}

Result<void> AccountStore::add(std::string_view address, std::string_view password) {
    auto name = parse_account_name(address);
    if (!name) return std::unexpected(name.error());
    auto rc = write_secrets(
        "INSERT INTO accounts (address, password_hash, scram_salt, scram_iterations, "
        "scram_stored_key, scram_server_key, created, password_changed) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        *name, password);
    if (!rc) return std::unexpected(rc.error());
    if (constraint_failed(*rc)) return fail(ErrorCode::kExists, *name + " already exists");
    if (*rc != SQLITE_DONE) return std::unexpected(db_error(db_, "adding " + *name));
    return {};
}

Result<void> AccountStore::set_password(std::string_view address, std::string_view password) {
    auto name = parse_account_name(address);
    if (!name) return std::unexpected(name.error());
    auto rc = write_secrets(
        "UPDATE accounts SET password_hash = ?2, scram_salt = ?3, scram_iterations = ?4, "
        "scram_stored_key = ?5, scram_server_key = ?6, password_changed = ?7 "
        "WHERE address = ?1",
        *name, password);
    if (!rc) return std::unexpected(rc.error());
    if (*rc != SQLITE_DONE) return std::unexpected(db_error(db_, "changing " + *name));
    if (sqlite3_changes(db_) == 0) return fail(ErrorCode::kNotFound, "no account " + *name);
    return {};
}

Result<void> AccountStore::remove(std::string_view address) {
    auto name = parse_account_name(address);
    if (!name) return std::unexpected(name.error());
    Statement del(db_, "DELETE FROM accounts WHERE address = ?1");
    if (del.text(1, *name).step() != SQLITE_DONE)
        return std::unexpected(db_error(db_, "deleting " + *name));
    if (sqlite3_changes(db_) == 0) return fail(ErrorCode::kNotFound, "no account " + *name);
    return {};
}

Result<std::vector<Account>> AccountStore::list() {
    Statement select(db_,
                     "SELECT address, created, password_changed, scram_iterations FROM accounts "
                     "ORDER BY address");
    std::vector<Account> out;
    int rc;
    while ((rc = select.step()) == SQLITE_ROW)
        out.push_back(Account{select.column(0), select.column_int(1), select.column_int(2),
                              static_cast<std::uint32_t>(select.column_int(3))});
    if (rc != SQLITE_DONE) return std::unexpected(db_error(db_, "listing accounts"));
    return out;
}

Result<bool> AccountStore::exists(std::string_view address) {
    auto name = normalize_identity(address);
    if (!name) return false;
    Statement select(db_, "SELECT 1 FROM accounts WHERE address = ?1");
    int rc = select.text(1, *name).step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return std::unexpected(db_error(db_, "looking up " + *name));
}

Result<bool> AccountStore::verify_password(std::string_view address, std::string_view password) {
    auto name = normalize_identity(address);
    if (!name) return false;
    Statement select(db_, "SELECT password_hash FROM accounts WHERE address = ?1");
    int rc = select.text(1, *name).step();
    if (rc == SQLITE_ROW) return password_matches(select.column(0), password);
    if (rc != SQLITE_DONE) return std::unexpected(db_error(db_, "looking up " + *name));
    if (dummy_hash_.empty()) {
        auto dummy = hash_password("tern: no such account", options_.argon2);
        if (dummy) dummy_hash_ = std::move(*dummy);
    }
    (void)password_matches(dummy_hash_, password);
    return false;
}

Result<std::optional<ScramKeys>> AccountStore::scram_keys(std::string_view address) {
    auto name = normalize_identity(address);
    if (!name) return std::optional<ScramKeys>();
    Statement select(db_,
                     "SELECT scram_salt, scram_iterations, scram_stored_key, scram_server_key "
                     "FROM accounts WHERE address = ?1");
    int rc = select.text(1, *name).step();
    if (rc == SQLITE_DONE) return std::optional<ScramKeys>();
    if (rc != SQLITE_ROW) return std::unexpected(db_error(db_, "looking up " + *name));
    return std::optional<ScramKeys>(ScramKeys{select.column(0),
                                              static_cast<std::uint32_t>(select.column_int(1)),
                                              select.column(2), select.column(3)});
}

}  // namespace tern::auth
