// `tern mailauth dmarc`: option parsing and printing only; the evaluation, the disposition and
// the Authentication-Results field are the library's (src/mailauth/), as the daemon uses them.
#include "cli/dmarc_command.h"

#include <iostream>
#include <optional>

#include "cli/resolver_run.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/dmarc_disposition.h"
#include "mailauth/dmarc_evaluator.h"
#include "mailauth/lookups.h"
#include "mailauth/public_suffix_list.h"

namespace tern::cli {
namespace {

using namespace tern::mailauth;

constexpr int kUsageError = 2;

// "RESULT:DOMAIN[:SELECTOR]" split at ':' into at most `parts` pieces; nullopt when malformed.
std::optional<std::vector<std::string>> split_outcome(const std::string& text, std::size_t parts) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (out.size() + 1 < parts) {
        std::size_t colon = text.find(':', start);
        if (colon == std::string::npos) break;
        out.push_back(text.substr(start, colon - start));
        start = colon + 1;
    }
    out.push_back(text.substr(start));
    if (out.size() < 2 || out[1].empty()) return std::nullopt;
    return out;
}

std::string_view state_name(IdentifierAlignment::State s) {
    switch (s) {
        case IdentifierAlignment::State::kAligned:
            return "aligned";
        case IdentifierAlignment::State::kNotAligned:
            return "not aligned";
        case IdentifierAlignment::State::kUnknown:
            return "unknown (DNS failure)";
        case IdentifierAlignment::State::kNotChecked:
            return "not checked (limit)";
    }
    return "";
}

void print(const DmarcResult& r, const DmarcDisposition& d, const AuthenticationResults& field) {
    std::cout << result_name(r.result) << "\n";
    std::cout << "author domain: " << r.author_domain << "\n";
    if (!r.reason.empty()) std::cout << "reason: " << r.reason << "\n";
    if (r.record) {
        std::cout << "policy domain: " << r.policy_domain << "\n";
        if (!r.organizational_domain.empty())
            std::cout << "organizational domain: " << r.organizational_domain << "\n";
        std::cout << "policy: " << policy_name(r.policy) << (r.testing ? " (t=y: testing)" : "")
                  << "\n";
        for (const std::string& e : r.record->errors)
            std::cout << "record error: " << e << "\n";
    }
    for (const IdentifierAlignment& id : r.identifiers) {
        bool spf = id.method == IdentifierAlignment::Method::kSpf;
        std::cout << (spf ? "spf " : "dkim ") << id.domain
                  << (id.selector.empty() ? "" : " s=" + id.selector) << ": "
                  << state_name(id.state) << "\n";
    }
    std::cout << "disposition: " << action_name(d.action);
    if (d.reply)
        std::cout << " (" << d.reply->code << " " << d.reply->status << " " << d.reply->text << ")";
    if (!d.override_reason.empty()) std::cout << ", override: " << d.override_reason;
    std::cout << "\n";
    std::cout << format_authentication_results(field);
    std::cout << "dns queries: " << r.queries << "\n";
}

}  // namespace

CLI::App* add_dmarc_command(CLI::App& mailauth, DmarcCommand& command) {
    auto* sub = mailauth.add_subcommand(
        "dmarc", "DMARC result for a From domain and given SPF and DKIM outcomes");
    sub->fallthrough();
    sub->add_option("--from-domain", command.from_domain, "The RFC5322.From domain")->required();
    sub->add_option("--spf", command.spf, "SPF outcome of the MAIL FROM identity")
        ->type_name("RESULT:DOMAIN")
        ->expected(1);
    sub->add_option("--dkim", command.dkim, "Outcome of one DKIM signature (repeatable)")
        ->type_name("RESULT:DOMAIN[:SELECTOR]");
    add_dns_option(sub, command.dns);
    sub->add_flag("--psl", command.use_psl,
                  "Find Organizational Domains with RFC 7489's public suffix list instead of the "
                  "DMARCbis tree walk");
    sub->add_option("--psl-file", command.psl_file,
                    "The public suffix list (implies --psl; default " +
                        std::string(kDefaultPublicSuffixFile) + ")")
        ->type_name("FILE");
    sub->add_option("--authserv-id", command.authserv_id,
                    "authserv-id of the Authentication-Results field (default: the hostname)");
    return sub;
}

int run_dmarc_command(const DmarcCommand& command, const config::Config& config) {
    std::optional<SpfEvidence> spf;
    if (!command.spf.empty()) {
        auto parts = split_outcome(command.spf.front(), 2);
        auto result = parts ? parse_result((*parts)[0]) : std::nullopt;
        if (!result) {
            std::cerr << "tern mailauth dmarc: --spf wants RESULT:DOMAIN, not '"
                      << command.spf.front() << "'\n";
            return kUsageError;
        }
        spf = SpfEvidence{*result, (*parts)[1], SpfEvidence::Identity::kMailFrom, {}, {}};
    }
    std::vector<DkimOutcome> dkim;
    for (const std::string& text : command.dkim) {
        auto parts = split_outcome(text, 3);
        auto result = parts ? parse_result((*parts)[0]) : std::nullopt;
        if (!result) {
            std::cerr << "tern mailauth dmarc: --dkim wants RESULT:DOMAIN[:SELECTOR], not '" << text
                      << "'\n";
            return kUsageError;
        }
        dkim.push_back({*result, (*parts)[1], parts->size() > 2 ? (*parts)[2] : "", {}, {}});
    }
    auto resolver = tool_resolver_options(config, command.dns);
    if (!resolver) {
        std::cerr << "tern mailauth dmarc: " << resolver.error().message << "\n";
        return kUsageError;
    }

    DmarcOptions options;
    std::optional<PublicSuffixList> psl;
    if (command.use_psl || !command.psl_file.empty()) {
        std::string path =
            command.psl_file.empty() ? std::string(kDefaultPublicSuffixFile) : command.psl_file;
        auto loaded = PublicSuffixList::load(path);
        if (loaded) {
            psl = std::move(*loaded);
            options.discovery = DmarcOptions::Discovery::kPublicSuffixList;
            options.public_suffixes = &*psl;
        } else {
            std::cerr << "tern mailauth dmarc: " << loaded.error().message
                      << "; using the DNS tree walk\n";
        }
    }

    DmarcEvaluator evaluator(command.from_domain, spf, dkim, options);
    auto ran =
        run_with_resolver(*resolver, [&](dns::Resolver& r) { return run_lookups(r, evaluator); });
    if (!ran) {
        std::cerr << "tern mailauth dmarc: " << ran.error().message << "\n";
        return kUsageError;
    }

    const DmarcResult& result = evaluator.result();
    DmarcDisposition disposition = decide_disposition(result, DmarcLocalPolicy{});
    AuthenticationResults field{
        command.authserv_id.empty() ? config.hostname : command.authserv_id, "", {}};
    if (spf) field.results.push_back(spf_result_info(*spf));
    for (ResultInfo& info : dkim_result_infos(dkim))
        field.results.push_back(std::move(info));
    field.results.push_back(dmarc_result_info(result, &disposition));
    print(result, disposition, field);
    return 0;
}

}  // namespace tern::cli
