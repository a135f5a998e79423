// The SPF and DKIM outcomes as DMARC and Authentication-Results take them: made from the SPF
// evaluator's outcome and the DKIM verifier's results, so every caller joins them the same way.
#pragma once

#include <span>
#include <vector>

#include "mailauth/arc_verifier.h"
#include "mailauth/dkim_verifier.h"
#include "mailauth/dmarc_disposition.h"
#include "mailauth/dmarc_evaluator.h"
#include "mailauth/spf.h"

namespace tern::mailauth {

// The identity DMARC aligns (DMARCbis section 4.4.2): the MAIL FROM domain, or for a null
// path the HELO name standing in for it (RFC 7208 section 2.4); a check of the HELO identity
// alone stays kHelo, which DMARC does not use.
SpfEvidence spf_evidence(const SpfRequest& request, const SpfOutcome& outcome);

// One DkimOutcome per signature, in the verifier's order.
std::vector<DkimOutcome> dkim_outcomes(std::span<const DkimResult> results);

// The ARC chain as DMARC's trusted-forwarder rule takes it: the validation, the newest sealer
// and the results it recorded in its ARC-Authentication-Results (unparseable ones: none).
ArcEvidence arc_evidence(const ArcResult& arc);

}  // namespace tern::mailauth
