// run_queue_command: the client half of the control protocol plus human-readable rendering of
// queue listings and message details.
#include "cli/queue_command.h"

#include <fmt/format.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "admin/control_server.h"
#include "cli/utc_time.h"
#include "spool/spool.h"

namespace tern::cli {
namespace {

// When a recipient (or message) is tried next: "held" beats any time, "now" for due ones.
std::string next_attempt_text(bool held, std::int64_t next) {
    if (held) return "held";
    return next == 0 ? "now" : utc_time(next);
}

void print_list(const nlohmann::json& reply) {
    const auto& list = reply["messages"];
    if (list.empty()) {
        std::cout << "The queue is empty.\n";
        return;
    }
    std::cout << fmt::format("{:<16}  {:<20}  {:>9}  {:>5}  {:>7}  {:<20}  {}\n", "QUEUE ID",
                             "ARRIVAL", "SIZE", "RCPTS", "PENDING", "NEXT ATTEMPT", "SENDER");
    for (const auto& m : list) {
        bool held = m.value("held", false);
        std::string sender = "<" + m.value("sender", "") + ">";
        if (held) sender += "  [held]";
        std::int64_t next = m.value("next_attempt", std::int64_t{0});
        std::cout << fmt::format(
            "{:<16}  {:<20}  {:>9}  {:>5}  {:>7}  {:<20}  {}\n", m.value("id", ""),
            utc_time(m.value("arrival", std::int64_t{0})), m.value("size", std::uint64_t{0}),
            m.value("recipients", 0), m.value("pending", 0),
            m.value("pending", 0) == 0 ? "-" : next_attempt_text(held, next), sender);
        // As postqueue -p: each recipient still to do, under the reason of its last attempt.
        std::string last_reason;
        for (const auto& r : m.value("waiting", nlohmann::json::array())) {
            std::string reason = r.value("last_reply", "");
            if (r.value("in_progress", false)) reason = "delivery in progress";
            if (reason.empty()) reason = "not yet tried";
            if (reason != last_reason) std::cout << fmt::format("    ({})\n", reason);
            last_reason = reason;
            std::cout << fmt::format("        {}\n", r.value("address", ""));
        }
    }
    std::cout << list.size() << (list.size() == 1 ? " message\n" : " messages\n");
}

int print_quarantine(const std::string& spool_dir, bool json) {
    auto files = spool::list_quarantine(spool_dir);
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& q : files)
            list.push_back({{"name", q.name},
                            {"path", spool_dir + "/quarantine/" + q.name},
                            {"size", q.size},
                            {"when", q.when},
                            {"reason", q.reason}});
        std::cout << nlohmann::json{{"ok", true}, {"quarantine", std::move(list)}}.dump(2) << "\n";
        return 0;
    }
    if (files.empty()) {
        std::cout << "Nothing is quarantined.\n";
        return 0;
    }
    std::cout << fmt::format("{:<20}  {:<20}  {:>9}  {}\n", "FILE", "QUARANTINED", "SIZE",
                             "REASON");
    for (const auto& q : files)
        std::cout << fmt::format("{:<20}  {:<20}  {:>9}  {}\n", q.name, utc_time(q.when), q.size,
                                 q.reason);
    std::cout << fmt::format("{} file(s) in {}/quarantine (see docs/spool.md)\n", files.size(),
                             spool_dir);
    return 0;
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
    if (m.value("requiretls", false)) line("REQUIRETLS", "yes (relayed only over verified TLS)");
    bool held = m.value("held", false);
    line("Held", held ? "yes" : "no");
    std::cout << "Recipients:\n";
    for (const auto& r : m["recipient_states"]) {
        std::string status = r.value("status", "");
        if (r.value("in_progress", false)) status += " (delivery in progress)";
        std::cout << fmt::format("  {}  {}\n", r.value("address", ""), status);
        if (r.value("original", "") != r.value("address", ""))
            std::cout << fmt::format("      original recipient: {}\n", r.value("original", ""));
        if (r.value("forwarded", false)) std::cout << "      forwarded (SRS when [srs] is on)\n";
        bool done = status == "delivered" || status == "failed";
        std::cout << fmt::format(
            "      attempts: {}  last: {}  next: {}\n", r.value("attempts", 0),
            utc_time(r.value("last_attempt", std::int64_t{0})),
            done ? "-" : next_attempt_text(held, r.value("next_attempt", std::int64_t{0})));
        if (!r.value("last_host", "").empty())
            std::cout << fmt::format("      host: {}\n", r.value("last_host", ""));
        if (!r.value("last_reply", "").empty()) {
            // Whose words: a reply the host sent, or Tern's account of what went wrong.
            bool by_host = r.value("reply_by", "") == "host";
            std::cout << fmt::format("      reply: {}{}\n", r.value("last_reply", ""),
                                     by_host ? "" : "  (Tern's own, not the host's)");
        }
        if (!r.value("verdict", "").empty())
            std::cout << fmt::format("      verdict: {}\n", r.value("verdict", ""));
        if (!r.value("last_detail", "").empty())
            std::cout << fmt::format("      how: {}\n", r.value("last_detail", ""));
    }
}

}  // namespace

int run_queue_command(const QueueCommand& c) {
    if (c.action == "quarantine") return print_quarantine(c.spool_dir, c.json);
    nlohmann::json request{{"cmd", c.action}};
    if (!c.id.empty()) request["id"] = c.id;
    if (c.all) request["all"] = true;
    auto answer = admin::control_call(c.socket_path, request);
    if (!answer) {
        std::cerr << "tern queue: " << answer.error().message << "\n";
        return 2;
    }
    nlohmann::json& reply = *answer;
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
        // Only the messages the command changed are counted and named.
        std::string_view verb = c.action == "retry"  ? "scheduled for delivery now"
                                : c.action == "hold" ? "put on hold"
                                                     : "released";
        std::cout << fmt::format("{}: {} message(s) {}\n", c.action, reply.value("count", 0), verb);
        for (const auto& id : reply.value("ids", nlohmann::json::array()))
            std::cout << "  " << id.get<std::string>() << "\n";
    } else if (c.action == "bounce") {
        std::cout << fmt::format("bounce: {} recipient(s) returned to the sender\n",
                                 reply.value("count", 0));
    } else {
        std::cout << c.action << ": done\n";
    }
    return 0;
}

}  // namespace tern::cli
