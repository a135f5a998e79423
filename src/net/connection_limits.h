// ConnectionLimits: counts open connections in total and per client address, shared by all
// event loops. A Slot held by a connection gives its place back when destroyed.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tern::net {

class ConnectionLimits {
  public:
    ConnectionLimits(std::size_t max_total, std::size_t max_per_client)
        : max_total_(max_total), max_per_client_(max_per_client) {}

    enum class Verdict { kAccepted, kTooManyTotal, kTooManyFromClient };

    class Slot {
      public:
        Slot() = default;
        Slot(Slot&& other) noexcept : owner_(other.owner_), client_(std::move(other.client_)) {
            other.owner_ = nullptr;
        }
        Slot& operator=(Slot&& other) noexcept {
            if (this != &other) {
                if (owner_) owner_->release(client_);
                owner_ = other.owner_;
                client_ = std::move(other.client_);
                other.owner_ = nullptr;
            }
            return *this;
        }
        Slot(const Slot&) = delete;
        ~Slot() {
            if (owner_) owner_->release(client_);
        }

      private:
        friend class ConnectionLimits;
        Slot(ConnectionLimits* owner, std::string client)
            : owner_(owner), client_(std::move(client)) {}
        ConnectionLimits* owner_ = nullptr;
        std::string client_;
    };

    // Takes a place for a connection from `client`, or says which limit refuses it.
    Verdict acquire(const std::string& client, Slot& slot);

    std::size_t open() const;

    // New limits (a reload); connections over them stay, new ones are refused until below.
    void set_limits(std::size_t max_total, std::size_t max_per_client);

  private:
    void release(const std::string& client);

    std::size_t max_total_;
    std::size_t max_per_client_;
    mutable std::mutex mutex_;
    std::size_t total_ = 0;
    std::unordered_map<std::string, std::size_t> per_client_;
};

}  // namespace tern::net
