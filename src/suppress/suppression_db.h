// SuppressionDb: the suppression list in an SQLite file (WAL, a sync at every commit): one row
// per (tenant, address), the global list being tenant "". Synchronous and blocking: used by
// `tern suppress` and by SuppressionList's worker thread, never on an event loop. Several
// processes may use the file at once (the daemon and `tern suppress`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

struct sqlite3;

namespace tern::suppress {

// Why an address is on the list.
enum class Reason { kBounce, kComplaint, kUnsubscribe, kManual };
std::string_view reason_name(Reason r);
std::optional<Reason> parse_reason(std::string_view name);

struct Suppression {
    std::string tenant;   // "" for the global list
    std::string address;  // as normalize_address() makes it
    Reason reason = Reason::kManual;
    std::string detail;  // the bounce's category and reply, the operator's note...
    std::string source;  // who put it there: "tern" (automatic), "cli", "api:KEYNAME"
    std::int64_t created = 0;

    bool operator==(const Suppression&) const = default;
};

// The form addresses are kept and compared in: ASCII letters in lower case, everywhere (the
// local part too: providers treat it so, and a list that let "Bob@" through after "bob@"
// unsubscribed would fail the person who asked); a quoted local part that needs no quotes
// without them ("bob"@ is bob@); the domain as its A-label (xn--).
std::string normalize_address(std::string_view address);

// A tenant name: 1..64 of [A-Za-z0-9._-]; "" is the global list.
bool valid_tenant(std::string_view tenant);

class SuppressionDb {
  public:
    // Opens `path`, creating the file (mode 0600, its directory too) and its schema when absent.
    static Result<std::unique_ptr<SuppressionDb>> open(const std::string& path);
    ~SuppressionDb();
    SuppressionDb(const SuppressionDb&) = delete;
    SuppressionDb& operator=(const SuppressionDb&) = delete;

    // Puts `entries` on the list in one transaction. An address already on its tenant's list
    // keeps its entry unless `replace` (an unsubscribe is not turned into a bounce later).
    // Returns how many were new.
    Result<std::size_t> add(const std::vector<Suppression>& entries, bool replace);
    // Takes `address` off `tenant`'s list; false when it was not on it.
    Result<bool> remove(std::string_view tenant, std::string_view address);
    // For each of `addresses` (normalized), its entry on `tenant`'s list or else on the global
    // list, or nullopt; in one read transaction.
    Result<std::vector<std::optional<Suppression>>> find(std::string_view tenant,
                                                         const std::vector<std::string>& addresses);
    // Up to `limit` entries, in order of (tenant, address), after the entry (after_tenant,
    // after_address); only `tenant`'s when given.
    Result<std::vector<Suppression>> list(std::optional<std::string> tenant,
                                          std::string_view after_tenant,
                                          std::string_view after_address, std::size_t limit);
    // How many entries the list has.
    Result<std::uint64_t> count();

  private:
    explicit SuppressionDb(sqlite3* db) : db_(db) {}
    sqlite3* db_;
};

}  // namespace tern::suppress
