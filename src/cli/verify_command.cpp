// One lookup run on a private resolver: the DKIM verifier over the message as the pipeline
// would feed it, then SPF (when asked), then DMARC over both; the field is the builder's.
#include "cli/verify_command.h"

#include <iostream>
#include <optional>

#include "cli/resolver_run.h"
#include "cli/tool_files.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/author_domain.h"
#include "mailauth/dkim_verifier.h"
#include "mailauth/dmarc_inputs.h"
#include "mailauth/lookups.h"

namespace tern::cli {
namespace {

using namespace tern::mailauth;

constexpr int kUsageError = 2;

int refuse(std::string_view why, int status) {
    std::cerr << "tern mailauth verify: " << why << "\n";
    return status;
}

// What the evaluators found, for printing.
struct Verdicts {
    std::vector<DkimResult> dkim;  // the signatures checked (at most max_signatures)
    std::size_t unchecked = 0;     // signatures over the limit, left out of the field
    std::optional<SpfEvidence> spf;
    std::optional<DmarcResult> dmarc;
};

DmarcEvaluator dmarc_for(const message::SplitMessage& message,
                         const std::optional<SpfEvidence>& spf,
                         const std::vector<DkimResult>& dkim) {
    AuthorDomainFinder finder;
    for (const std::string& field : message.fields)
        finder.header_field(field);
    AuthorDomain author = finder.result();
    if (!author.domain) return DmarcEvaluator::without_author(author.problem);
    return DmarcEvaluator(*author.domain, spf, dkim_outcomes(dkim));
}

AuthenticationResults field_for(const Verdicts& v, const std::string& authserv_id) {
    AuthenticationResults field{authserv_id, "", dkim_result_infos(dkim_outcomes(v.dkim))};
    for (std::size_t i = 0; i < v.dkim.size(); ++i)
        if (v.dkim[i].key_bits > 0)
            field.results[i].comment = std::to_string(v.dkim[i].key_bits) + "-bit key" +
                                       (v.dkim[i].testing ? ", testing" : "");
    if (v.dkim.empty()) field.results.push_back({"dkim", "", "none", "", "", {}});
    if (v.spf) field.results.push_back(spf_result_info(*v.spf));
    if (v.dmarc) {
        DmarcDisposition disposition = decide_disposition(*v.dmarc, DmarcLocalPolicy{});
        field.results.push_back(dmarc_result_info(*v.dmarc, &disposition));
    }
    return field;
}

// The field with LF line ends, for a terminal.
std::string with_lf(std::string text) {
    std::erase(text, '\r');
    return text;
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
    Verdicts verdicts;
    auto ran = run_with_resolver(*resolver, [&](dns::Resolver& r) -> boost::asio::awaitable<void> {
        DkimVerifyOptions options;
        DkimVerifier dkim(options, unix_now());
        for (const std::string& field : message.split.fields)
            dkim.header(field);
        dkim.end_headers();
        dkim.body(message.split.body);
        dkim.end_body();
        co_await run_lookups(r, dkim);
        verdicts.dkim = dkim.results();
        // The verifier gives each signature over the limit a neutral "not checked": the field
        // keeps those it checked, so that a message with many signatures gets a bounded field.
        if (verdicts.dkim.size() > options.max_signatures) {
            verdicts.unchecked = verdicts.dkim.size() - options.max_signatures;
            verdicts.dkim.resize(options.max_signatures);
        }
        if (request) {
            SpfCheck spf(*request);
            co_await run_spf_check(r, spf, command.spf.timeout);
            verdicts.spf = spf_evidence(*request, spf.outcome());
        }
        DmarcEvaluator dmarc = dmarc_for(message.split, verdicts.spf, verdicts.dkim);
        co_await run_lookups(r, dmarc);
        verdicts.dmarc = dmarc.result();
    });
    if (!ran) return refuse(ran.error().message, 1);
    AuthenticationResults field = field_for(verdicts, authserv_id);
    for (const ResultInfo& info : field.results)
        std::cout << format_result_info(info) << "\n";
    if (verdicts.unchecked > 0)
        std::cout << "dkim: " << verdicts.unchecked
                  << " more DKIM-Signature fields not checked (over the limit of "
                  << verdicts.dkim.size() << " per message)\n";
    std::cout << with_lf(format_authentication_results(field)) << std::flush;
    return 0;
}

}  // namespace tern::cli
