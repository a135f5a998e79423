// How an SPF outcome is written into a message: the Received-SPF header field (RFC 7208
// section 9.1) and the "spf" method entry of Authentication-Results (RFC 8601 section 2.7.2).
#pragma once

#include <string>

#include "mailauth/spf.h"

namespace tern::mailauth {

// The "spf=" resinfo of an Authentication-Results field, in pieces and as text.
struct SpfAuthResults {
    AuthResult result = AuthResult::kNone;
    std::string property;  // "smtp.mailfrom" or "smtp.helo"
    std::string value;     // the MAIL FROM domain, or the HELO name (quoted if need be)
    std::string comment;   // the reason, for a (comment) if the writer wants one

    // "spf=pass smtp.mailfrom=example.com".
    std::string str() const;
};

SpfAuthResults spf_auth_results(const SpfOutcome& outcome);

// The whole Received-SPF field, folded, ending in CRLF, e.g.
//   Received-SPF: pass (mx.example.org: domain of a@example.com designates 192.0.2.1 as
//    permitted sender) client-ip=192.0.2.1; envelope-from="a@example.com"; helo=mail.example.com;
//    receiver=mx.example.org; identity=mailfrom; mechanism=ip4:192.0.2.0/24
// `receiver` names this host (the authserv).
std::string received_spf_field(const SpfRequest& request, const SpfOutcome& outcome,
                               const std::string& receiver);

}  // namespace tern::mailauth
