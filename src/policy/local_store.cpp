// LocalPolicyStore: memory first; the writer thread wakes every flush_interval, prunes expired
// entries and writes what changed in one transaction, so no check ever waits for the disk.
#include "policy/local_store.h"

namespace tern::policy {

LocalPolicyStore::LocalPolicyStore(Passkey, LocalStoreOptions options, log::Logger& log)
    : options_(std::move(options)), log_(log) {
    if (options_.greylist) greylist_ = std::make_unique<Greylist>(*options_.greylist);
}

Result<std::unique_ptr<LocalPolicyStore>> LocalPolicyStore::open(LocalStoreOptions options,
                                                                 log::Logger& log) {
    auto store = std::make_unique<LocalPolicyStore>(Passkey{}, std::move(options), log);
    if (!store->greylist_ || store->options_.database.empty()) return store;
    auto db = GreylistDb::open(store->options_.database);
    if (!db) return std::unexpected(db.error());
    auto loaded = (*db)->load(*store->greylist_, Clock::now());
    if (!loaded) return std::unexpected(loaded.error());
    log.info("greylist_loaded",
             {{"path", store->options_.database}, {"triplets", store->greylist_->size()}});
    store->db_ = std::move(*db);
    store->writer_ = std::thread([s = store.get()] { s->run_writer(); });
    return store;
}

LocalPolicyStore::~LocalPolicyStore() {
    if (writer_.joinable()) {
        {
            std::lock_guard lock(stop_mutex_);
            stopping_ = true;
        }
        stop_cv_.notify_all();
        writer_.join();
    }
    flush();
}

boost::asio::awaitable<bool> LocalPolicyStore::take(std::string key, Rate rate,
                                                    Clock::time_point now, std::uint64_t n) {
    co_return take_now(key, rate, now, n);
}

boost::asio::awaitable<GreylistDecision> LocalPolicyStore::greylist(std::string client_ip,
                                                                    std::string sender,
                                                                    std::string recipient,
                                                                    Clock::time_point now) {
    co_return greylist_now(client_ip, sender, recipient, now);
}

bool LocalPolicyStore::take_now(const std::string& key, Rate rate, Clock::time_point now,
                                std::uint64_t n) {
    return rates_.take_now(key, rate, now, n);
}

GreylistDecision LocalPolicyStore::greylist_now(std::string_view client_ip, std::string_view sender,
                                                std::string_view recipient, Clock::time_point now) {
    if (!greylist_) return {true, {}, "off"};
    return greylist_->check(client_ip, sender, recipient, now);
}

void LocalPolicyStore::flush() {
    if (!db_) return;
    std::lock_guard lock(db_mutex_);
    greylist_->prune(Clock::now());
    if (retry_) {
        if (auto r = db_->write(*retry_); !r) {
            log_.warn("greylist_write_failed",
                      {{"path", options_.database}, {"error", r.error().message}});
            return;  // the newer changes stay marked in memory for the next try
        }
        retry_.reset();
    }
    auto changes = greylist_->take_changes();
    if (auto r = db_->write(changes); !r) {
        log_.warn("greylist_write_failed",
                  {{"path", options_.database}, {"error", r.error().message}});
        retry_ = std::move(changes);
    }
}

void LocalPolicyStore::run_writer() {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
        stop_cv_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        flush();
        lock.lock();
    }
}

}  // namespace tern::policy
