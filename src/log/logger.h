// Logger: one line per event, as `event key=value ...` text or as a JSON object per line.
// Components take a Logger& (never a global); values are escaped so a line is always one line.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace spdlog {
class logger;
}

namespace tern::log {

class ReopenableFileSink;

enum class Format { kText, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

// One key and its value; the value is converted to text when the field is made.
struct Field {
    std::string_view key;
    std::string value;
    bool quoted = true;  // JSON: false for numbers and booleans

    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const std::string& v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
    Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
    template <class T>
    requires std::is_arithmetic_v<T> Field(std::string_view k, T v)
        : key(k), value(fmt::format("{}", v)), quoted(false) {}
};

class Logger {
  public:
    // Writes to standard error, or appends to `path` when it is not empty.
    Logger(Format format, Level min_level, const std::string& path = {});
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // Logs `event` with its fields when `level` is at or above the minimum.
    void event(Level level, std::string_view event, std::initializer_list<Field> fields) {
        this->event(level, event, std::span<const Field>(fields.begin(), fields.size()));
    }
    // The same with fields chosen at run time.
    void event(Level level, std::string_view event, std::span<const Field> fields);

    void info(std::string_view ev, std::initializer_list<Field> fields) {
        event(Level::kInfo, ev, fields);
    }
    void warn(std::string_view ev, std::initializer_list<Field> fields) {
        event(Level::kWarn, ev, fields);
    }
    void error(std::string_view ev, std::initializer_list<Field> fields) {
        event(Level::kError, ev, fields);
    }
    void debug(std::string_view ev, std::initializer_list<Field> fields) {
        event(Level::kDebug, ev, fields);
    }

    // Writing to a file: closes it and opens the path again, so that a log rotated away (renamed
    // by logrotate) is followed by a new file. Lines logged meanwhile go to one file or the
    // other, none is lost. On failure the old file stays in use. Nothing to do for stderr.
    [[nodiscard]] Result<void> reopen();

    // Renders one line without the timestamp; exposed so tests can check the format.
    std::string render(Level level, std::string_view event,
                       std::initializer_list<Field> fields) const {
        return render(level, event, std::span<const Field>(fields.begin(), fields.size()));
    }
    std::string render(Level level, std::string_view event, std::span<const Field> fields) const;

  private:
    Format format_;
    Level min_level_;
    std::shared_ptr<spdlog::logger> sink_;
    std::shared_ptr<ReopenableFileSink> file_;  // null when writing to standard error
};

}  // namespace tern::log
