// Logger: renders events as text or JSON lines and hands them to spdlog, which adds the
// timestamp (text) and serialises writes from several threads.
#include "log/logger.h"

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace tern::log {

// A file sink that can open its path again (spdlog's basic_file_sink cannot).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit ReopenableFileSink(const std::string& path) { file_.open(path, false); }

    Result<void> reopen() {
        std::lock_guard lock(mutex_);
        // The path is tried first, so a failure leaves the old file open and in use.
        try {
            spdlog::details::file_helper probe;
            probe.open(file_.filename(), false);
            file_.reopen(false);
        } catch (const spdlog::spdlog_ex& e) {
            return fail(ErrorCode::kIo, e.what());
        }
        return {};
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t line;
        formatter_->format(msg, line);
        file_.write(line);
    }
    void flush_() override { file_.flush(); }

  private:
    spdlog::details::file_helper file_;
};

namespace {

std::string_view level_name(Level level) {
    switch (level) {
        case Level::kDebug:
            return "debug";
        case Level::kInfo:
            return "info";
        case Level::kWarn:
            return "warn";
        case Level::kError:
            return "error";
    }
    return "info";
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

// Text values are quoted when they hold spaces, quotes, '=' or control bytes.
void append_text_value(std::string& out, std::string_view s) {
    bool plain = !s.empty();
    for (unsigned char c : s) {
        if (c <= 0x20 || c == '"' || c == '=' || c == 0x7f || c == '\\') {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += s;
        return;
    }
    append_json_string(out, s);
}

}  // namespace

Logger::Logger(Format format, Level min_level, const std::string& path)
    : format_(format), min_level_(min_level) {
    if (path.empty()) {
        sink_ = std::make_shared<spdlog::logger>("tern",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
        file_ = std::make_shared<ReopenableFileSink>(path);
        sink_ = std::make_shared<spdlog::logger>("tern", file_);
    }
    sink_->set_level(spdlog::level::trace);
    sink_->flush_on(spdlog::level::trace);
    if (format_ == Format::kJson) {
        sink_->set_pattern("%v");
    } else {
        sink_->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %v");
    }
}

Logger::~Logger() = default;

std::string Logger::render(Level level, std::string_view event,
                           std::span<const Field> fields) const {
    std::string line;
    line.reserve(128);
    if (format_ == Format::kJson) {
        auto now = std::chrono::system_clock::now();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
        line += fmt::format("{{\"ts\":{}.{:03d},\"level\":\"{}\",\"event\":", ms.count() / 1000,
                            static_cast<int>(ms.count() % 1000), level_name(level));
        append_json_string(line, event);
        for (const auto& f : fields) {
            line += ',';
            append_json_string(line, f.key);
            line += ':';
            if (f.quoted) {
                append_json_string(line, f.value);
            } else {
                line += f.value;
            }
        }
        line += '}';
    } else {
        line += level_name(level);
        line += ' ';
        line += event;
        for (const auto& f : fields) {
            line += ' ';
            line += f.key;
            line += '=';
            append_text_value(line, f.value);
        }
    }
    return line;
}

void Logger::event(Level level, std::string_view event, std::span<const Field> fields) {
    if (level < min_level_) return;
    sink_->info(render(level, event, fields));
}

Result<void> Logger::reopen() {
    if (!file_) return {};
    return file_->reopen();
}

}  // namespace tern::log
