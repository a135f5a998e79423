// `tern feedback`: read_report and report_events as the feedback transport runs them, printed
// as JSON; the VERP codec with [feedback] secrets and bounce_domain.
#include "cli/feedback_command.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "base/unix_time.h"
#include "bounce/classifier.h"
#include "events/event.h"
#include "feedback/feedback_transport.h"

namespace tern::cli {
namespace {

using nlohmann::json;

json report_json(const feedback::Report& r, const bounce::BounceClassifier& classifier) {
    json j{{"kind", feedback::kind_name(r.kind)}};
    if (!r.why.empty()) j["why"] = r.why;
    if (!r.reporting_mta.empty()) j["reporting_mta"] = r.reporting_mta;
    if (r.kind == feedback::ReportKind::kDsn || r.kind == feedback::ReportKind::kBounce) {
        json list = json::array();
        for (const auto& rr : r.recipients) {
            list.push_back({{"recipient", rr.recipient},
                            {"original_recipient", rr.original_recipient},
                            {"action", rr.action},
                            {"status", rr.status},
                            {"diagnostic", rr.diagnostic},
                            {"remote_mta", rr.remote_mta},
                            {"category", feedback::recipient_category(rr, classifier)}});
        }
        j["recipients"] = std::move(list);
    }
    if (r.kind == feedback::ReportKind::kComplaint) {
        j["feedback_type"] = r.feedback_type;
        j["user_agent"] = r.user_agent;
        j["original_mail_from"] = r.original_mail_from;
        j["original_rcpt_to"] = r.original_rcpt_to;
        j["source_ip"] = r.source_ip;
        j["reported_domain"] = r.reported_domain;
    }
    json original = json::object();
    if (!r.original_return_path.empty()) original["return_path"] = r.original_return_path;
    if (!r.original_message_id.empty()) original["message_id"] = r.original_message_id;
    if (!r.original_to.empty()) original["to"] = r.original_to;
    if (!original.empty()) j["original"] = std::move(original);
    return j;
}

}  // namespace

void add_feedback_command(CLI::App& app, FeedbackCommand& command) {
    auto* feedback = app.add_subcommand(
        "feedback", "Read a report that came back, or make and check VERP addresses");
    feedback->require_subcommand(1);
    feedback->fallthrough();
    auto* read = feedback->add_subcommand(
        "read", "Print what a bounce or complaint report says, as JSON (docs/feedback.md)");
    read->add_option("file", command.file, "The message (default: standard input)");
    read->add_option("--to", command.to,
                     "The address it came to: print the events it makes there too");
    read->callback([&command] { command.action = "read"; });
    auto* verp = feedback->add_subcommand(
        "verp", "Print the VERP address of a queue id and recipient, or --decode one");
    verp->add_option("id", command.id, "Queue id");
    verp->add_option("recipient", command.recipient, "LOCAL@DOMAIN");
    verp->add_option("--decode", command.decode, "A VERP address to read back");
    verp->callback([&command] { command.action = "verp"; });
    for (auto* sub : {read, verp})
        sub->fallthrough();
}

int run_feedback_command(const FeedbackCommand& command, const config::Config& config) {
    feedback::VerpCodec verp({config.feedback_bounce_domain, config.feedback_secrets, "b"});
    if (command.action == "verp") {
        if (!verp.enabled()) {
            std::cerr << "tern feedback verp: set feedback.bounce_domain and feedback.secrets\n";
            return 1;
        }
        if (!command.decode.empty()) {
            auto t = verp.decode(command.decode);
            if (!t) {
                std::cerr << "tern feedback verp: not a VERP address of ours (or a tag that does "
                             "not hold)\n";
                return 1;
            }
            std::cout << t->id << " " << t->recipient << "\n";
            return 0;
        }
        auto made = verp.encode(command.id, command.recipient);
        if (!made) {
            std::cerr << "tern feedback verp: give a queue id and an address VERP can carry "
                         "(unquoted ASCII local part)\n";
            return 1;
        }
        std::cout << *made << "\n";
        return 0;
    }
    std::string text;
    if (command.file.empty() || command.file == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
        std::ifstream in(command.file, std::ios::binary);
        if (!in) {
            std::cerr << "tern feedback read: cannot open " << command.file << "\n";
            return 1;
        }
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (text.size() > config.feedback_max_read) text.resize(config.feedback_max_read);
    auto classifier = bounce::BounceClassifier::load(config.bounce_rules_file);
    if (!classifier) {
        std::cerr << "tern feedback read: bounce.rules_file: " << classifier.error().message
                  << "\n";
        return 1;
    }
    feedback::Report report = feedback::read_report(text);
    json out = report_json(report, **classifier);
    if (!command.to.empty()) {
        // Full VERP addresses only: a compact one's recipient is in the daemon's sent index.
        json list = json::array();
        if (auto target = feedback::full_target(report, command.to, verp))
            for (const auto& e :
                 feedback::report_events(report, *target, classifier->get(), unix_now()))
                list.push_back(json::parse(events::to_json_line(e)));
        out["events"] = std::move(list);
    }
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return 0;
}

}  // namespace tern::cli
