// EventLog: segments of JSON lines, appended in rounds by one thread. A reader finds its place in
// a segment by binary search on the seq of the lines (they are in order), so a poll costs a few
// reads whatever the log's size.
#include "events/event_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>

#include "base/durable_dirs.h"

namespace tern::events {
namespace {

constexpr std::string_view kSuffix = ".jsonl";
constexpr std::size_t kTail = 64 * 1024;  // what recovery reads of the last segment's end

struct Segment {
    std::uint64_t first = 0;
    std::string path;
};

std::vector<Segment> list_segments(const std::string& dir) {
    std::vector<Segment> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (auto* entry = ::readdir(d)) {
        std::string_view name = entry->d_name;
        if (!name.ends_with(kSuffix) || name.size() != 20 + kSuffix.size()) continue;
        std::uint64_t first = 0;
        auto [end, ec] = std::from_chars(name.data(), name.data() + 20, first);
        if (ec != std::errc() || end != name.data() + 20) continue;
        out.push_back({first, dir + "/" + std::string(name)});
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(),
              [](const Segment& a, const Segment& b) { return a.first < b.first; });
    return out;
}

std::string segment_path(const std::string& dir, std::uint64_t first) {
    std::array<char, 32> name{};
    std::snprintf(name.data(), name.size(), "%020llu", static_cast<unsigned long long>(first));
    return dir + "/" + name.data() + std::string(kSuffix);
}

// The seq of a log line, without parsing the rest: lines start {"seq":N,
std::optional<std::uint64_t> seq_of(std::string_view line) {
    constexpr std::string_view kStart = "{\"seq\":";
    if (!line.starts_with(kStart)) return std::nullopt;
    std::uint64_t seq = 0;
    auto [end, ec] = std::from_chars(line.data() + kStart.size(), line.data() + line.size(), seq);
    if (ec != std::errc()) return std::nullopt;
    return seq;
}

ssize_t pread_some(int fd, char* buf, std::size_t n, off_t at) {
    for (;;) {
        ssize_t got = ::pread(fd, buf, n, at);
        if (got < 0 && errno == EINTR) continue;
        return got;
    }
}

// The offset of a line start in the file at or before the first line with seq > after.
off_t find_start(int fd, off_t size, std::uint64_t after) {
    off_t lo = 0;
    off_t hi = size;
    std::array<char, 4096> buf{};
    while (hi - lo > static_cast<off_t>(buf.size()) * 4) {
        off_t mid = lo + (hi - lo) / 2;
        ssize_t got = pread_some(fd, buf.data(), buf.size(), mid);
        if (got <= 0) break;
        std::string_view chunk(buf.data(), static_cast<std::size_t>(got));
        auto nl = chunk.find('\n');
        if (nl == std::string_view::npos) break;
        off_t line_at = mid + static_cast<off_t>(nl) + 1;
        if (line_at >= hi) {
            hi = mid;
            continue;
        }
        got = pread_some(fd, buf.data(), buf.size(), line_at);
        if (got <= 0) break;
        auto seq = seq_of(std::string_view(buf.data(), static_cast<std::size_t>(got)));
        if (!seq) break;
        if (*seq <= after)
            lo = line_at;
        else
            hi = mid;
    }
    return lo;
}

}  // namespace

Result<std::unique_ptr<EventLog>> EventLog::open(EventLogOptions options) {
    std::unique_ptr<EventLog> log(new EventLog(std::move(options)));
    if (auto r = make_durable_dirs(log->options_.dir, 0700); !r) return std::unexpected(r.error());
    if (auto r = log->recover(); !r) return std::unexpected(r.error());
    log->writer_ = std::thread([raw = log.get()] { raw->run(); });
    return log;
}

EventLog::~EventLog() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (writer_.joinable()) writer_.join();
}

Result<void> EventLog::recover() {
    auto segments = list_segments(options_.dir);
    if (segments.empty()) return open_segment(1);
    const Segment& last = segments.back();
    UniqueFd fd(::open(last.path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "open " + last.path));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return std::unexpected(Error::from_errno(errno, "stat " + last.path));
    off_t size = st.st_size;
    off_t from = size > static_cast<off_t>(kTail) ? size - static_cast<off_t>(kTail) : 0;
    std::string tail(static_cast<std::size_t>(size - from), '\0');
    ssize_t got = pread_some(fd.get(), tail.data(), tail.size(), from);
    if (got != static_cast<ssize_t>(tail.size()))
        return std::unexpected(Error::from_errno(errno, "read " + last.path));
    // Everything after the last line end is a round cut short: cut it off.
    auto nl = tail.rfind('\n');
    off_t keep = nl == std::string::npos ? from : from + static_cast<off_t>(nl) + 1;
    if (keep < size && ::ftruncate(fd.get(), keep) != 0)
        return std::unexpected(Error::from_errno(errno, "truncate " + last.path));
    next_seq_ = last.first;
    if (nl != std::string::npos) {
        auto start = tail.rfind('\n', nl == 0 ? std::string::npos : nl - 1);
        std::string_view line(tail.data() + (start == std::string::npos ? 0 : start + 1),
                              nl - (start == std::string::npos ? 0 : start + 1));
        if (auto seq = seq_of(line)) next_seq_ = *seq + 1;
    }
    durable_ = next_seq_ - 1;
    segment_ = std::move(fd);
    segment_bytes_ = static_cast<std::uint64_t>(keep);
    return {};
}

Result<void> EventLog::open_segment(std::uint64_t first) {
    std::string path = segment_path(options_.dir, first);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "create " + path));
    if (auto r = sync_dir(options_.dir); !r) return r;
    segment_ = std::move(fd);
    segment_bytes_ = 0;
    return {};
}

void EventLog::record(Event e) {
    std::lock_guard lock(mutex_);
    if (pending_.size() >= options_.max_pending) {
        ++dropped_;
        return;
    }
    e.seq = next_seq_++;
    pending_.push_back(std::move(e));
}

void EventLog::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, options_.flush_interval, [this] { return stop_ || flush_now_; });
        flush_now_ = false;
        std::vector<Event> round;
        round.swap(pending_);
        bool stopping = stop_;
        lock.unlock();
        if (!round.empty()) {
            auto r = write_round(round);
            if (r) {
                lock.lock();
                error_.clear();
                lock.unlock();
            } else {
                lock.lock();
                error_ = r.error().message;
                if (!stopping) {
                    // Kept for the next round, in order before anything recorded since.
                    pending_.insert(pending_.begin(), std::make_move_iterator(round.begin()),
                                    std::make_move_iterator(round.end()));
                } else {
                    dropped_ += round.size();
                }
                lock.unlock();
            }
        }
        lock.lock();
        ++rounds_;
        flushed_.notify_all();
        if (stopping && pending_.empty()) return;
        if (stopping && !error_.empty()) return;
    }
}

Result<void> EventLog::write_round(const std::vector<Event>& events) {
    std::string buffer;
    for (const auto& e : events) {
        buffer += to_json_line(e);
        buffer += '\n';
    }
    std::uint64_t last = events.back().seq;
    if (segment_bytes_ > 0 && segment_bytes_ + buffer.size() > options_.segment_size) {
        if (auto r = open_segment(events.front().seq); !r) return r;
        trim();
    }
    std::string_view rest = buffer;
    while (!rest.empty()) {
        ssize_t n = ::write(segment_.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            // A partial round is taken back: the next round writes it whole.
            [[maybe_unused]] int ignored =
                ::ftruncate(segment_.get(), static_cast<off_t>(segment_bytes_));
            return std::unexpected(Error::from_errno(err, "write to " + options_.dir));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fdatasync(segment_.get()) != 0) {
        int err = errno;
        // Written but not known to be on disk: taken back, so that the round written again
        // does not repeat its seqs.
        [[maybe_unused]] int ignored =
            ::ftruncate(segment_.get(), static_cast<off_t>(segment_bytes_));
        return std::unexpected(Error::from_errno(err, "fdatasync in " + options_.dir));
    }
    segment_bytes_ += buffer.size();
    durable_ = last;
    return {};
}

void EventLog::trim() {
    auto segments = list_segments(options_.dir);
    std::vector<std::uint64_t> sizes;
    std::uint64_t total = 0;
    for (const auto& s : segments) {
        struct stat st {};
        std::uint64_t size = ::stat(s.path.c_str(), &st) == 0 ? st.st_size : 0;
        sizes.push_back(size);
        total += size;
    }
    for (std::size_t i = 0; i + 1 < segments.size() && total > options_.max_size; ++i) {
        if (::unlink(segments[i].path.c_str()) == 0) total -= sizes[i];
    }
}

void EventLog::flush() {
    std::unique_lock lock(mutex_);
    std::uint64_t want = next_seq_ - 1;
    std::uint64_t start = rounds_;
    while (durable_.load() < want && !stop_) {
        std::uint64_t seen = rounds_;
        flush_now_ = true;
        wake_.notify_all();
        flushed_.wait(lock, [&] { return rounds_ != seen || stop_; });
        if (!error_.empty() && rounds_ > start + 2) return;  // failing: not waited for
    }
}

std::string EventLog::last_error() const {
    std::lock_guard lock(mutex_);
    return error_;
}

Result<EventLog::Page> EventLog::read(std::uint64_t after, std::size_t limit,
                                      const std::function<bool(const Event&)>& keep,
                                      std::size_t max_scan) const {
    Page page;
    page.next = after;
    std::uint64_t durable = durable_.load();
    if (after >= durable || limit == 0) return page;
    auto segments = list_segments(options_.dir);
    std::size_t index = 0;
    for (std::size_t i = 0; i < segments.size(); ++i)
        if (segments[i].first <= after + 1) index = i;
    std::size_t scanned = 0;
    std::array<char, 64 * 1024> buf{};
    for (std::size_t i = index; i < segments.size(); ++i) {
        UniqueFd fd(::open(segments[i].path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) {
            if (errno == ENOENT) continue;  // removed by the size limit meanwhile
            return std::unexpected(Error::from_errno(errno, "open " + segments[i].path));
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0)
            return std::unexpected(Error::from_errno(errno, "stat " + segments[i].path));
        off_t at = i == index ? find_start(fd.get(), st.st_size, after) : 0;
        std::string carry;
        while (at < st.st_size) {
            ssize_t got = pread_some(fd.get(), buf.data(), buf.size(), at);
            if (got < 0)
                return std::unexpected(Error::from_errno(errno, "read " + segments[i].path));
            if (got == 0) break;
            at += got;
            carry.append(buf.data(), static_cast<std::size_t>(got));
            std::size_t start = 0;
            for (auto nl = carry.find('\n'); nl != std::string::npos;
                 nl = carry.find('\n', start)) {
                std::string_view line(carry.data() + start, nl - start);
                start = nl + 1;
                auto seq = seq_of(line);
                if (!seq || *seq <= after) continue;
                if (*seq > durable) return page;
                page.next = *seq;
                auto e = from_json_line(line);
                if (e && (!keep || keep(*e))) page.events.push_back(std::move(*e));
                if (page.events.size() >= limit || ++scanned >= max_scan) return page;
            }
            carry.erase(0, start);
        }
    }
    return page;
}

}  // namespace tern::events
