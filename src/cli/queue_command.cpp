// run_queue_command: the client half of the control protocol plus human-readable rendering of
// queue listings and message details.
#include "cli/queue_command.h"

#include <fmt/format.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "admin/control_server.h"
#include "cli/utc_time.h"

namespace tern::cli {
namespace {

void print_list(const nlohmann::json& reply) {
    const auto& list = reply["messages"];
    if (list.empty()) {
        std::cout << "The queue is empty.\n";
        return;
    }
    std::cout << fmt::format("{:<16}  {:<20}  {:>9}  {:>5}  {:>7}  {:<20}  {}\n", "QUEUE ID",
                             "ARRIVAL", "SIZE", "RCPTS", "PENDING", "NEXT ATTEMPT", "SENDER");
    for (const auto& m : list) {
        std::string sender = "<" + m.value("sender", "") + ">";
        if (m.value("held", false)) sender += "  [held]";
        std::int64_t next = m.value("next_attempt", std::int64_t{0});
        std::cout << fmt::format(
            "{:<16}  {:<20}  {:>9}  {:>5}  {:>7}  {:<20}  {}\n", m.value("id", ""),
            utc_time(m.value("arrival", std::int64_t{0})), m.value("size", std::uint64_t{0}),
            m.value("recipients", 0), m.value("pending", 0),
            m.value("pending", 0) == 0 ? "-" : (next == 0 ? "now" : utc_time(next)), sender);
    }
    std::cout << list.size() << (list.size() == 1 ? " message\n" : " messages\n");
}

void print_message(const nlohmann::json& m) {
    auto line = [](std::string_view key, const std::string& value) {
        std::cout << fmt::format("{:<13} {}\n", std::string(key) + ":", value);
    };
    line("Queue ID", m.value("id", ""));
    line("Arrival", utc_time(m.value("arrival", std::int64_t{0})));
    line("Sender", "<" + m.value("sender", "") + ">");
    line("Size", std::to_string(m.value("size", std::uint64_t{0})) + " octets");
    line("Client", m.value("client_ip", "") + " (helo " + m.value("helo", "") + ")");
    line("Protocol", m.value("protocol", ""));
    if (!m.value("auth_user", "").empty()) line("Auth user", m.value("auth_user", ""));
    if (!m.value("envid", "").empty()) line("Envelope ID", m.value("envid", ""));
    line("Held", m.value("held", false) ? "yes" : "no");
    std::cout << "Recipients:\n";
    for (const auto& r : m["recipient_states"]) {
        std::string status = r.value("status", "");
        if (r.value("in_progress", false)) status += " (delivery in progress)";
        std::cout << fmt::format("  {}  {}\n", r.value("address", ""), status);
        if (r.value("original", "") != r.value("address", ""))
            std::cout << fmt::format("      original recipient: {}\n", r.value("original", ""));
        std::cout << fmt::format(
            "      attempts: {}  last: {}  next: {}\n", r.value("attempts", 0),
            utc_time(r.value("last_attempt", std::int64_t{0})),
            status == "deferred" ? utc_time(r.value("next_attempt", std::int64_t{0})) : "-");
        if (!r.value("last_host", "").empty())
            std::cout << fmt::format("      host: {}\n", r.value("last_host", ""));
        if (!r.value("last_reply", "").empty())
            std::cout << fmt::format("      reply: {}\n", r.value("last_reply", ""));
        if (!r.value("last_detail", "").empty())
            std::cout << fmt::format("      how: {}\n", r.value("last_detail", ""));
    }
}

}  // namespace

int run_queue_command(const QueueCommand& c) {
    nlohmann::json request{{"cmd", c.action}};
    if (!c.id.empty()) request["id"] = c.id;
    if (c.all) request["all"] = true;
    auto reply_text = admin::control_request(c.socket_path, request.dump());
    if (!reply_text) {
        std::cerr << "tern queue: " << reply_text.error().message << "\n";
        return 2;
    }
    auto reply = nlohmann::json::parse(*reply_text, nullptr, false);
    if (reply.is_discarded()) {
        std::cerr << "tern queue: malformed reply from the daemon\n";
        return 2;
    }
    if (c.json) {
        std::cout << reply.dump(2) << "\n";
        return reply.value("ok", false) ? 0 : 1;
    }
    if (!reply.value("ok", false)) {
        std::cerr << "tern queue: " << reply.value("error", "failed") << "\n";
        return 1;
    }
    if (c.action == "list") {
        print_list(reply);
    } else if (c.action == "show") {
        print_message(reply["message"]);
    } else if (c.action == "retry" || c.action == "hold" || c.action == "release") {
        std::cout << fmt::format("{}: {} message(s)\n", c.action, reply.value("count", 0));
    } else if (c.action == "bounce") {
        std::cout << fmt::format("bounce: {} recipient(s) returned to the sender\n",
                                 reply.value("count", 0));
    } else {
        std::cout << c.action << ": done\n";
    }
    return 0;
}

}  // namespace tern::cli
