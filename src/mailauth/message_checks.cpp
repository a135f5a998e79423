// MessageChecks: DKIM hashes stream in with the text; at the end SPF, the DKIM key lookups and
// DMARC (which needs both) run in turn against the resolver within one deadline.
#include "mailauth/message_checks.h"

#include "mailauth/auth_results_builder.h"
#include "mailauth/dmarc_inputs.h"
#include "mailauth/lookups.h"

namespace tern::mailauth {

MessageChecks::MessageChecks(CheckOptions options, std::int64_t now)
    : options_(std::move(options)),
      dkim_(options_.dkim_options, now),
      arc_(options_.arc_options, now) {}

void MessageChecks::header(std::string_view raw_field) {
    if (options_.dkim) dkim_.header(raw_field);
    if (options_.arc) arc_.header(raw_field);
    author_.header_field(raw_field);
}

void MessageChecks::end_headers() {
    if (options_.dkim) dkim_.end_headers();
    if (options_.arc) arc_.end_headers();
}

void MessageChecks::body(std::string_view chunk) {
    if (options_.dkim) dkim_.body(chunk);
    if (options_.arc) arc_.body(chunk);
}

boost::asio::awaitable<CheckResults> MessageChecks::finish(
    dns::Resolver& resolver, std::optional<SpfRequest> spf,
    std::chrono::steady_clock::time_point deadline) {
    CheckResults results;
    if (spf) {
        SpfCheck check(*spf, options_.spf_options);
        co_await run_lookups(resolver, check, deadline);
        results.spf = spf_evidence(*spf, check.outcome());
    }
    if (options_.dkim) {
        dkim_.end_body();
        co_await run_lookups(resolver, dkim_, deadline);
        results.dkim = dkim_.results();
        // Signatures over the limit are reported unchecked by the verifier; the field keeps
        // those it checked, so that a message with many signatures gets a bounded field.
        if (results.dkim.size() > options_.dkim_options.max_signatures) {
            results.dkim_unchecked = results.dkim.size() - options_.dkim_options.max_signatures;
            results.dkim.resize(options_.dkim_options.max_signatures);
        }
    }
    if (options_.arc) {
        arc_.end_body();
        co_await run_lookups(resolver, arc_, deadline);
        results.arc = arc_.result();
    }
    if (options_.dmarc) {
        AuthorDomain author = author_.result();
        DmarcEvaluator dmarc =
            author.domain ? DmarcEvaluator(*author.domain, results.spf, dkim_outcomes(results.dkim),
                                           options_.dmarc_options)
                          : DmarcEvaluator::without_author(author.problem);
        co_await run_lookups(resolver, dmarc, deadline);
        results.dmarc = dmarc.result();
        std::optional<ArcEvidence> arc;
        if (results.arc) arc = arc_evidence(*results.arc);
        results.disposition =
            decide_disposition(*results.dmarc, options_.local_policy, arc ? &*arc : nullptr);
    }
    co_return results;
}

AuthenticationResults authentication_results(const CheckResults& results,
                                             const std::string& authserv_id) {
    AuthenticationResults field{authserv_id, "", dkim_result_infos(dkim_outcomes(results.dkim))};
    for (std::size_t i = 0; i < results.dkim.size(); ++i)
        if (results.dkim[i].key_bits > 0)
            field.results[i].comment = std::to_string(results.dkim[i].key_bits) + "-bit key" +
                                       (results.dkim[i].testing ? ", testing" : "");
    if (results.dkim.empty()) field.results.push_back({"dkim", "", "none", "", "", {}});
    if (results.spf) field.results.push_back(spf_result_info(*results.spf));
    if (results.dmarc)
        field.results.push_back(dmarc_result_info(
            *results.dmarc, results.disposition ? &*results.disposition : nullptr));
    if (results.arc && results.arc->result != AuthResult::kNone) {
        ResultInfo arc = arc_result_info(arc_evidence(*results.arc));
        if (results.arc->result == AuthResult::kFail) arc.reason = results.arc->reason;
        if (results.arc->result == AuthResult::kPass && results.arc->oldest_pass > 0)
            arc.properties.push_back(
                {"header", "oldest-pass", std::to_string(results.arc->oldest_pass)});
        field.results.push_back(std::move(arc));
    }
    return field;
}

}  // namespace tern::mailauth
