// The conversions are field for field; the only choice is which identity DMARC may align,
// decided by what was asked (the request), not by which name SPF ended up checking.
#include "mailauth/dmarc_inputs.h"

#include "mailauth/auth_results.h"

namespace tern::mailauth {

SpfEvidence spf_evidence(const SpfRequest& request, const SpfOutcome& outcome) {
    bool helo_only = request.identity == SpfIdentity::kHelo;
    return SpfEvidence{
        outcome.result,
        outcome.domain,
        helo_only ? SpfEvidence::Identity::kHelo : SpfEvidence::Identity::kMailFrom,
        helo_only ? std::string() : request.sender,
        outcome.reason,
    };
}

std::vector<DkimOutcome> dkim_outcomes(std::span<const DkimResult> results) {
    std::vector<DkimOutcome> out;
    out.reserve(results.size());
    for (const DkimResult& r : results)
        out.push_back({r.result, r.domain, r.selector, r.signature_text, r.reason});
    return out;
}

ArcEvidence arc_evidence(const ArcResult& arc) {
    ArcEvidence evidence;
    evidence.chain = arc.result;
    evidence.instance = static_cast<int>(arc.instances);
    if (arc.sets.empty()) return evidence;
    const ArcSetResult& newest = arc.sets.back();
    evidence.sealer = newest.seal_domain;
    if (auto parsed = parse_authentication_results(newest.results))
        evidence.results = std::move(parsed->results);
    return evidence;
}

}  // namespace tern::mailauth
