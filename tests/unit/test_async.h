// Test helper for coroutines: runs one awaitable to completion on an io_context of its own and
// returns its result (an exception it throws comes out of run_until_done).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace tern::testing {

template <class T>
T run_until_done(boost::asio::awaitable<T> a) {
    boost::asio::io_context io;
    auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
    io.run();
    return f.get();
}

}  // namespace tern::testing
