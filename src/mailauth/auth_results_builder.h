// Writing Tern's Authentication-Results field (RFC 8601 section 2): from the SPF, DKIM, DMARC
// and ARC outcomes, values quoted where they are not tokens, comments and reasons cleaned of
// controls, folded to 78 columns.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "mailauth/auth_results.h"
#include "mailauth/dmarc_disposition.h"
#include "mailauth/dmarc_evaluator.h"

namespace tern::mailauth {

// The whole field, "Authentication-Results: id;\r\n\tspf=pass ...\r\n": values that are not
// tokens quoted, comments and reasons cleaned of controls and escaped, one result a line and
// lines folded between elements to stay within 78 octets where an element allows it.
std::string format_authentication_results(const AuthenticationResults& field);

// One resinfo on one line, its elements as the field writes them: "dkim=pass header.d=...".
std::string format_result_info(const ResultInfo& info);

// spf=RESULT with smtp.mailfrom (the address, or the domain for a null path's HELO stand-in)
// or smtp.helo.
ResultInfo spf_result_info(const SpfEvidence& spf);

// One dkim=RESULT per signature with header.d, header.s and header.b: the shortest prefix of b=
// of at least 8 characters that tells the signatures of this message apart (RFC 6008).
std::vector<ResultInfo> dkim_result_infos(std::span<const DkimOutcome> signatures);

// dmarc=RESULT with header.from and, when a record applied, policy.dmarc (the policy after t=y,
// as DMARCbis section 9.1 registers it) and a comment with the record's p=, sp=, np=, t= and the
// disposition taken.
ResultInfo dmarc_result_info(const DmarcResult& dmarc, const DmarcDisposition* disposition);

// arc=RESULT (RFC 8617 section 10.1) with a comment naming the newest sealer.
ResultInfo arc_result_info(const ArcEvidence& arc);

}  // namespace tern::mailauth
