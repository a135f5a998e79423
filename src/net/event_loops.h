// EventLoops: one io_context per worker thread ("one event loop per core"). Connections are
// handed out round-robin; each is served entirely on the loop it was given.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace tern::net {

class EventLoops {
  public:
    // `count` loops; 0 means one per CPU core.
    explicit EventLoops(unsigned count);
    ~EventLoops();
    EventLoops(const EventLoops&) = delete;
    EventLoops& operator=(const EventLoops&) = delete;

    // Runs every loop on its own thread and waits until all have stopped.
    void run();
    // Makes run() return once the loops have no more work; safe from any thread.
    void release_work();
    // Stops every loop at once.
    void stop();

    std::size_t size() const { return loops_.size(); }
    boost::asio::io_context& loop(std::size_t i) { return *loops_[i]; }
    // The next loop in round-robin order.
    boost::asio::io_context& next();

  private:
    std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::atomic<std::size_t> next_{0};
};

}  // namespace tern::net
