// Event: the JSON form of an event, one line each in the log and one object each in the API.
#include "events/event.h"

#include <nlohmann/json.hpp>

namespace tern::events {

std::string to_json_line(const Event& e) {
    nlohmann::json j{{"time", e.time},     {"type", e.type},           {"id", e.id},
                     {"sender", e.sender}, {"recipient", e.recipient}, {"attempts", e.attempts}};
    if (!e.reply.empty()) j["reply"] = e.reply;
    if (!e.remote_host.empty()) j["remote_host"] = e.remote_host;
    if (!e.source.empty()) j["source"] = e.source;
    if (!e.auth.empty()) j["auth"] = e.auth;
    if (!e.category.empty()) j["category"] = e.category;
    if (!e.report.empty()) j["report"] = e.report;
    // Replies come from remote hosts: octets that are not UTF-8 become U+FFFD. The seq comes
    // first (the object's other keys are sorted), so that a reader finds it without parsing.
    std::string rest = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return "{\"seq\":" + std::to_string(e.seq) + "," + rest.substr(1);
}

std::optional<Event> from_json_line(std::string_view line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned()) return std::nullopt;
    auto text = [&j](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Event e;
    e.seq = j["seq"].get<std::uint64_t>();
    if (auto it = j.find("time"); it != j.end() && it->is_number_integer())
        e.time = it->get<std::int64_t>();
    if (auto it = j.find("attempts"); it != j.end() && it->is_number_unsigned())
        e.attempts = it->get<std::uint32_t>();
    e.type = text("type");
    e.id = text("id");
    e.sender = text("sender");
    e.recipient = text("recipient");
    e.reply = text("reply");
    e.remote_host = text("remote_host");
    e.source = text("source");
    e.auth = text("auth");
    e.category = text("category");
    e.report = text("report");
    return e;
}

}  // namespace tern::events
