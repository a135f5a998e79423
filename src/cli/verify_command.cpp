// One lookup run on a private resolver: the DKIM verifier over the message as the pipeline
// would feed it, then SPF (when asked), then DMARC over both; the field is the builder's.
#include "cli/verify_command.h"

#include <chrono>
#include <iostream>
#include <optional>

#include "cli/resolver_run.h"
#include "cli/tool_files.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/message_checks.h"

namespace tern::cli {
namespace {

using namespace tern::mailauth;

constexpr int kUsageError = 2;

int refuse(std::string_view why, int status) {
    std::cerr << "tern mailauth verify: " << why << "\n";
    return status;
}

}  // namespace

CLI::App* add_verify_command(CLI::App& mailauth, VerifyCommand& command) {
    auto* verify = mailauth.add_subcommand(
        "verify",
        "Verify the message on standard input: DKIM, SPF (with --ip), DMARC, and the "
        "Authentication-Results field Tern would add");
    verify->fallthrough();
    add_dns_option(verify, command.dns);
    add_spf_options(verify, command.spf, false);
    verify->add_option("--authserv-id", command.authserv_id,
                       "authserv-id of the Authentication-Results field (default: the "
                       "configured hostname)");
    return verify;
}

int run_verify_command(const VerifyCommand& command, const config::Config& config) {
    std::string authserv_id = command.authserv_id.empty() ? config.hostname : command.authserv_id;
    std::optional<SpfRequest> request;
    if (!command.spf.ip.empty()) {
        if (command.spf.helo.empty()) return refuse("--ip needs --helo", kUsageError);
        auto made = spf_request(command.spf, authserv_id);
        if (!made) return refuse(made.error().message, kUsageError);
        request = std::move(*made);
    }
    auto resolver = tool_resolver_options(config, command.dns);
    if (!resolver) return refuse(resolver.error().message, kUsageError);
    if (request) resolver->timeout = spf_query_timeout(command.spf.timeout);

    InputMessage message;
    read_message(message);
    CheckResults results;
    auto ran = run_with_resolver(*resolver, [&](dns::Resolver& r) -> boost::asio::awaitable<void> {
        MessageChecks checks(CheckOptions{}, unix_now());
        for (const std::string& field : message.split.fields)
            checks.header(field);
        checks.end_headers();
        checks.body(message.split.body);
        auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(command.spf.timeout * 1000));
        results = co_await checks.finish(r, request, deadline);
    });
    if (!ran) return refuse(ran.error().message, 1);
    AuthenticationResults field = authentication_results(results, authserv_id);
    for (const ResultInfo& info : field.results)
        std::cout << format_result_info(info) << "\n";
    if (results.dkim_unchecked > 0)
        std::cout << "dkim: " << results.dkim_unchecked
                  << " more DKIM-Signature fields not checked (over the limit of "
                  << results.dkim.size() << " per message)\n";
    std::cout << with_lf(format_authentication_results(field)) << std::flush;
    return 0;
}

}  // namespace tern::cli
