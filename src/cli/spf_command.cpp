// `tern mailauth spf`: builds the SpfRequest from the options, drives mailauth::SpfCheck against
// the resolver within the time budget, and prints the outcome.
#include "cli/spf_command.h"

#include <unistd.h>

#include <iostream>

#include "cli/resolver_run.h"
#include "cli/tool_files.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/dmarc_inputs.h"
#include "mailauth/lookups.h"
#include "mailauth/spf_report.h"

namespace tern::cli {
namespace {

constexpr int kUsageError = 2;

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "unknown";
    return buf;
}

void print(const mailauth::SpfCheck& check, const std::string& receiver) {
    const auto& o = check.outcome();
    std::cout << mailauth::result_name(o.result) << "\n";
    if (o.explanation) std::cout << "explanation: " << *o.explanation << "\n";
    std::cout << "reason: " << o.reason << "\n";
    std::cout << "identity: "
              << (o.identity == mailauth::SpfIdentity::kHelo ? "helo " : "mailfrom ") << o.sender
              << "\n";
    if (!o.mechanism.empty()) std::cout << "mechanism: " << o.mechanism << "\n";
    std::cout << "domain: " << o.record_domain << "\n";
    std::cout << "lookups: " << o.dns_terms << " DNS-querying terms, " << o.void_lookups
              << " void\n";
    std::string field = mailauth::received_spf_field(check.request(), o, receiver);
    for (std::size_t at; (at = field.find('\r')) != std::string::npos;)
        field.erase(at, 1);
    std::cout << field;
    // The spf entry as the daemon's field writes it (one line here).
    std::cout << "Authentication-Results: " << receiver << "; "
              << mailauth::format_result_info(
                     mailauth::spf_result_info(mailauth::spf_evidence(check.request(), o)))
              << "\n";
}

}  // namespace

void add_spf_options(CLI::App* command, SpfInputs& inputs, bool required) {
    auto* ip = command->add_option("--ip", inputs.ip, "Client IP address (IPv4 or IPv6)");
    auto* helo = command->add_option("--helo", inputs.helo, "HELO/EHLO name the client gave");
    if (required) {
        ip->required();
        helo->required();
    }
    command->add_option("--sender", inputs.sender,
                        "MAIL FROM address; empty or <> checks the HELO name instead");
    command
        ->add_option("--timeout", inputs.timeout,
                     "Seconds the SPF check may take (each DNS query too); past it, temperror")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
}

CLI::App* add_spf_command(CLI::App& mailauth, SpfCommand& command) {
    auto* spf = mailauth.add_subcommand(
        "spf", "SPF result (RFC 7208) for a client IP, HELO name and envelope sender");
    spf->fallthrough();
    add_spf_options(spf, command.inputs, true);
    add_dns_option(spf, command.dns);
    spf->add_option("--receiver", command.receiver,
                    "This host's name, for %{r} and the header fields (default: hostname)");
    spf->footer(
        "Prints the result (pass, fail, softfail, neutral, none, temperror or permerror) on "
        "the first line, then the explanation (for fail), the reason and the header fields. "
        "Exit status 0 whatever the result; 2 for unusable arguments.");
    return spf;
}

Result<mailauth::SpfRequest> spf_request(const SpfInputs& inputs, const std::string& receiver) {
    auto client = mailauth::IpAddress::parse(inputs.ip);
    if (!client) return fail(ErrorCode::kInvalid, "--ip " + inputs.ip + " is not an IP address");
    mailauth::SpfRequest request;
    request.client = *client;
    request.helo = inputs.helo;
    request.sender = inputs.sender == "<>" ? "" : inputs.sender;
    if (request.sender.size() >= 2 && request.sender.front() == '<' && request.sender.back() == '>')
        request.sender = request.sender.substr(1, request.sender.size() - 2);
    request.receiver = receiver;
    request.now = unix_now();
    return request;
}

std::chrono::seconds spf_query_timeout(double timeout) {
    auto budget = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(budget));
}

boost::asio::awaitable<void> run_spf_check(dns::Resolver& resolver, mailauth::SpfCheck& check,
                                           double timeout) {
    co_await mailauth::run_lookups(
        resolver, check,
        std::chrono::steady_clock::now() +
            std::chrono::milliseconds(static_cast<long>(timeout * 1000)));
}

int run_spf_command(const SpfCommand& command, const config::Config& config) {
    std::string receiver = command.receiver.empty() ? host_name() : command.receiver;
    auto request = spf_request(command.inputs, receiver);
    if (!request) {
        std::cerr << "tern mailauth spf: " << request.error().message << "\n";
        return kUsageError;
    }
    auto resolver = tool_resolver_options(config, command.dns);
    if (!resolver) {
        std::cerr << "tern mailauth spf: " << resolver.error().message << "\n";
        return kUsageError;
    }
    resolver->timeout = spf_query_timeout(command.inputs.timeout);
    mailauth::SpfCheck check(*request);
    auto ran = run_with_resolver(*resolver, [&](dns::Resolver& r) {
        return run_spf_check(r, check, command.inputs.timeout);
    });
    if (!ran) {
        std::cerr << "tern mailauth spf: " << ran.error().message << "\n";
        return 1;
    }
    print(check, receiver);
    return 0;
}

}  // namespace tern::cli
