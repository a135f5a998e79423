// Logger: renders events as text or JSON lines and hands them to spdlog, which adds the
// timestamp (text) and serialises writes from several threads.
#include "log/logger.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace tern::log {
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
        sink_ = std::make_shared<spdlog::logger>(
            "tern", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path));
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

}  // namespace tern::log
