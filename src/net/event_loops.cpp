// EventLoops: creation, round-robin choice and the threads that run the io_contexts.
// Each io_context is told it has one thread, which lets Asio skip internal locking.
#include "net/event_loops.h"

namespace tern::net {

EventLoops::EventLoops(unsigned count) {
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < count; ++i) {
        loops_.push_back(std::make_unique<boost::asio::io_context>(1));
        work_.push_back(boost::asio::make_work_guard(*loops_.back()));
    }
}

EventLoops::~EventLoops() {
    stop();
}

void EventLoops::run() {
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i)
        threads.emplace_back([this, i] { loops_[i]->run(); });
    loops_[0]->run();
    for (auto& t : threads)
        t.join();
}

void EventLoops::release_work() {
    for (auto& w : work_)
        w.reset();
}

void EventLoops::stop() {
    for (auto& l : loops_)
        l->stop();
}

boost::asio::io_context& EventLoops::next() {
    return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

}  // namespace tern::net
