// How an SPF outcome is written into a message: the Received-SPF header field (RFC 7208
// section 9.1). The "spf" entry of Authentication-Results is the builder's (spf_result_info in
// auth_results_builder.h, with spf_evidence from dmarc_inputs.h).
#pragma once

#include <string>

#include "mailauth/spf.h"

namespace tern::mailauth {

// The whole Received-SPF field, folded, ending in CRLF, e.g.
//   Received-SPF: pass (mx.example.org: domain of a@example.com designates 192.0.2.1 as
//    permitted sender) client-ip=192.0.2.1; envelope-from="a@example.com"; helo=mail.example.com;
//    receiver=mx.example.org; identity=mailfrom; mechanism=ip4:192.0.2.0/24
// `receiver` names this host (the authserv).
std::string received_spf_field(const SpfRequest& request, const SpfOutcome& outcome,
                               const std::string& receiver);

}  // namespace tern::mailauth
