// SentIndex: who sent the messages whose reports may come back (docs/feedback.md): queue id ->
// envelope sender, how the message came and the API key, kept for [feedback] sent_retention in
// <data_dir>/sent.sqlite, so that a bounce or complaint read days later is an event of the same
// sender and key as the message's own events (a key sees the events of the mail it sent).
// Written without waiting by the sending API; a row lost to a crash costs only that attribution.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/db_worker.h"
#include "base/error.h"

namespace tern::feedback {

struct SentOrigin {
    std::string id;      // the queue id
    std::string sender;  // the envelope sender
    std::string source;  // how it came: "http"
    std::string auth;    // the API key's name
    std::int64_t created = 0;
    std::vector<std::string> recipients;  // the message's, as sent (compact VERP addresses)

    bool operator==(const SentOrigin&) const = default;
};

class SentDb {
  public:
    static Result<std::unique_ptr<SentDb>> open(const std::string& path);
    ~SentDb();
    SentDb(const SentDb&) = delete;
    SentDb& operator=(const SentDb&) = delete;

    // Adds the rows (a queue id already there is replaced) in one transaction, and from time to
    // time removes the rows created before `now - retention`.
    Result<void> add(const std::vector<SentOrigin>& rows, std::int64_t now, std::int64_t retention);
    Result<std::optional<SentOrigin>> find(std::string_view id);

  private:
    explicit SentDb(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::uint64_t adds_ = 0;
};

using SentIndex = DbWorker<SentDb>;

}  // namespace tern::feedback
