// GreylistDb: greylist state (triplets, passes per network) in an SQLite file of the data
// directory, so that a restart does not greylist every sender again. Synchronous and blocking:
// used at start, by LocalPolicyStore's writer thread, and at shutdown; never on an event loop.
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "policy/greylist.h"

struct sqlite3;

namespace tern::policy {

class GreylistDb {
  public:
    // Opens `path`, creating the file (mode 0600) and its schema when absent. kIo when it cannot
    // be opened or is not a greylist database.
    static Result<std::unique_ptr<GreylistDb>> open(const std::string& path);
    ~GreylistDb();
    GreylistDb(const GreylistDb&) = delete;
    GreylistDb& operator=(const GreylistDb&) = delete;

    // Puts every stored entry into `into` (which drops and marks gone the expired ones); the
    // number of triplets read.
    Result<std::size_t> load(Greylist& into, GreylistClock::time_point now);
    // Writes `changes` in one transaction: all of them or none.
    Result<void> write(const GreylistChanges& changes);

  private:
    explicit GreylistDb(sqlite3* db) : db_(db) {}
    sqlite3* db_;
};

}  // namespace tern::policy
