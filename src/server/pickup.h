// Pickup: the daemon's side of the maildrop (spool/maildrop.h, docs/sendmail.md). Each file
// `tern sendmail` left is read and checked, given a Received field naming the submitting user
// (the file's owner), passed through the local pipeline (DKIM signing), committed through the
// injector and only then removed. New files are seen at once (inotify); the directory is also
// scanned at start (files dropped while the daemon was down) and every `scan_interval`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "log/logger.h"
#include "pipeline/pipeline.h"
#include "policy/recipient_policy.h"
#include "spool/injector.h"

namespace tern::server {

struct PickupOptions {
    std::string dir;       // <data_dir>/maildrop
    std::string bad_dir;   // where malformed or oversized files are set aside
    std::string hostname;  // for the Received field
    std::uint64_t max_message_size = 0;
    std::chrono::seconds scan_interval{60};
};

class Pickup {
  public:
    // `stages` holds the local pipeline (may be null); `recipients` expands aliases as for SMTP.
    Pickup(boost::asio::io_context& loop, PickupOptions options, spool::Injector& injector,
           const policy::RecipientPolicy& recipients, const pipeline::PipelineSlot* stages,
           log::Logger& log);

    // Creates the directories (maildrop with mode 3733) and starts watching; an error when the
    // directory cannot be made.
    Result<void> start();
    void stop();

  private:
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> scan();
    boost::asio::awaitable<void> take(const std::string& name);
    void set_aside(const std::string& name, const std::string& why);

    boost::asio::io_context& loop_;
    PickupOptions options_;
    spool::Injector& injector_;
    const policy::RecipientPolicy& recipients_;
    const pipeline::PipelineSlot* stages_;
    log::Logger& log_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> watch_;
    boost::asio::steady_timer timer_;
    bool stopped_ = false;
    bool pending_ = false;  // the watch saw a new file while a scan ran
};

}  // namespace tern::server
