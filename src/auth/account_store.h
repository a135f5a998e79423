// AccountStore: the accounts of authenticated submission in an embedded SQLite database, with an
// argon2id hash (PLAIN, LOGIN) and SCRAM-SHA-256 keys per account. Synchronous and blocking.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password_hash.h"
#include "auth/scram_keys.h"
#include "base/error.h"

struct sqlite3;

namespace tern::auth {

// How secrets are made when a password is set; existing secrets keep the costs they were made
// with.
struct HashOptions {
    Argon2Params argon2;
    std::uint32_t scram_iterations = kMinScramIterations;
};

// One account as `tern user list` shows it; never any secret.
struct Account {
    std::string address;                // normalised (identity.h)
    std::int64_t created = 0;           // Unix time
    std::int64_t password_changed = 0;  // Unix time
    std::uint32_t scram_iterations = 0;
};

// One SQLite connection. Not thread-safe: use each object from one thread at a time (the
// Verifier gives each worker thread its own, kept for the life of the worker). The database is
// in WAL mode with a busy timeout, so `tern user` can change accounts while the daemon's
// connections read; every lookup is a transaction of its own, so it sees every change
// committed before it began.
class AccountStore {
  public:
    // Creates the database file (mode 0600) and its directory when the file is absent; an
    // existing file is left alone. Call it before this process connects to the file, never
    // beside a connection: closing any descriptor of a file drops every POSIX lock the process
    // holds on it (fcntl(2)), SQLite's included, and SQLite's locks are what keep another
    // process (`tern user`) from removing the WAL under the daemon's connections.
    static Result<void> create_file(const std::string& path);

    // Connects to the database at `path`, which must exist (create_file), and creates the
    // schema in an empty file. Touches the file through SQLite only, so it is safe while other
    // connections of this process are open. kIo when it cannot be opened or is not an account
    // database.
    static Result<std::unique_ptr<AccountStore>> open(const std::string& path, HashOptions options);

  private:
    struct Passkey {
        explicit Passkey() = default;
    };

  public:
    AccountStore(Passkey, sqlite3* db, HashOptions options) : db_(db), options_(options) {}
    ~AccountStore();
    AccountStore(const AccountStore&) = delete;
    AccountStore& operator=(const AccountStore&) = delete;

    // `address` is checked with parse_account_name; `password` with check_password (kInvalid).
    // add: kExists when the account exists. set_password, remove: kNotFound when it does not.
    Result<void> add(std::string_view address, std::string_view password);
    Result<void> set_password(std::string_view address, std::string_view password);
    Result<void> remove(std::string_view address);

    // Every account, ordered by address.
    Result<std::vector<Account>> list();

    // Lookups by SASL identity or recipient address, normalised with normalize_identity; a name
    // that cannot be normalised is simply absent. Errors are database failures (temporary).
    Result<bool> exists(std::string_view address);
    // False for an unknown account too, after the same argon2id work as for a known one, so
    // that the time taken does not tell which accounts exist.
    Result<bool> verify_password(std::string_view address, std::string_view password);
    Result<std::optional<ScramKeys>> scram_keys(std::string_view address);

  private:
    // Makes new secrets for `password` and runs `sql`, an INSERT or UPDATE binding ?1 the
    // account `name`, ?2 to ?6 the secrets and ?7 the time; returns SQLite's result code.
    Result<int> write_secrets(const char* sql, const std::string& name, std::string_view password);

    sqlite3* db_;
    HashOptions options_;
    std::string dummy_hash_;  // hashed on first need, to verify passwords of unknown accounts
};

}  // namespace tern::auth
