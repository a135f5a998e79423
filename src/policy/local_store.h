// LocalPolicyStore: the embedded default PolicyStore. Rate allowances and greylist triplets live
// in this process's memory (authoritative); greylist state is also written to an SQLite file in
// batches by a thread of its own, and read back at start. Rate allowances are memory only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/error.h"
#include "log/logger.h"
#include "policy/greylist.h"
#include "policy/greylist_db.h"
#include "policy/policy_store.h"
#include "policy/rate.h"

namespace tern::policy {

struct LocalStoreOptions {
    std::optional<GreylistOptions> greylist;  // none = every greylist() attempt passes
    std::string database;                     // SQLite file of greylist state; empty = none
    std::chrono::seconds flush_interval{10};  // how often changed entries are written
};

class LocalPolicyStore : public PolicyStore {
  public:
    // Opens the database and loads it (blocking: call before the event loops run), and starts
    // the writer. kIo when the database cannot be opened or read.
    static Result<std::unique_ptr<LocalPolicyStore>> open(LocalStoreOptions options,
                                                          log::Logger& log);
    // Stops the writer and writes the last changes.
    ~LocalPolicyStore() override;
    LocalPolicyStore(const LocalPolicyStore&) = delete;
    LocalPolicyStore& operator=(const LocalPolicyStore&) = delete;

    boost::asio::awaitable<bool> take(std::string key, Rate rate, Clock::time_point now,
                                      std::uint64_t n = 1) override;
    boost::asio::awaitable<GreylistDecision> greylist(std::string client_ip, std::string sender,
                                                      std::string recipient,
                                                      Clock::time_point now) override;

    // The same without a coroutine: a map lookup under a lock, never any I/O.
    bool take_now(const std::string& key, Rate rate, Clock::time_point now, std::uint64_t n = 1);
    GreylistDecision greylist_now(std::string_view client_ip, std::string_view sender,
                                  std::string_view recipient, Clock::time_point now);

    // Writes the changed greylist entries now, on the calling thread (blocking).
    void flush();

  private:
    struct Passkey {
        explicit Passkey() = default;
    };

  public:
    LocalPolicyStore(Passkey, LocalStoreOptions options, log::Logger& log);

  private:
    void run_writer();

    LocalStoreOptions options_;
    log::Logger& log_;
    MemoryRateStore rates_;
    std::unique_ptr<Greylist> greylist_;
    std::unique_ptr<GreylistDb> db_;
    std::mutex db_mutex_;                   // one writer at a time (thread, shutdown, tests)
    std::optional<GreylistChanges> retry_;  // a batch whose write failed, tried again first
    std::mutex stop_mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace tern::policy
