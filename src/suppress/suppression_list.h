// SuppressionList: the daemon's suppression list. One worker thread with its own connection to
// the SQLite file runs every read and write, so an event loop never waits for SQLite; callers
// co_await lookups, and automatic additions (hard bounces) are queued and forgotten.
#pragma once

#include "base/db_worker.h"
#include "suppress/suppression_db.h"

namespace tern::suppress {

using SuppressionList = DbWorker<SuppressionDb>;

}  // namespace tern::suppress
