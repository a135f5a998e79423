// MessageChecks: SPF, DKIM and DMARC over one message, as the daemon's verify stage and the
// `tern mailauth verify` tool both run them: header fields and body chunks fed as they stream
// in, then the DNS lookups of all three within one time budget, then the results and the
// Authentication-Results field (RFC 8601) they make.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.h"
#include "mailauth/arc_verifier.h"
#include "mailauth/auth_results.h"
#include "mailauth/author_domain.h"
#include "mailauth/dkim_verifier.h"
#include "mailauth/dmarc_disposition.h"
#include "mailauth/dmarc_evaluator.h"
#include "mailauth/spf.h"

namespace tern::mailauth {

struct CheckOptions {
    bool dkim = true;
    bool dmarc = true;
    bool arc = true;
    DkimVerifyOptions dkim_options;
    DmarcOptions dmarc_options;
    SpfOptions spf_options;
    ArcVerifyOptions arc_options;
    DmarcLocalPolicy local_policy;  // what DMARC failures lead to, and the trusted ARC sealers
};

struct CheckResults {
    std::vector<DkimResult> dkim;      // the signatures checked (at most max_signatures)
    std::size_t dkim_unchecked = 0;    // signatures over the limit, left out of the field
    std::optional<SpfEvidence> spf;    // when SPF was asked for
    std::optional<DmarcResult> dmarc;  // when DMARC was asked for
    std::optional<ArcResult> arc;      // when ARC was asked for
    std::optional<DmarcDisposition> disposition;  // the local policy applied to `dmarc`
};

class MessageChecks {
  public:
    MessageChecks(CheckOptions options, std::int64_t now);

    // The message as it arrives: each header field raw, the end of the header section, body
    // chunks of any size (CRLF line ends, dot-unstuffed).
    void header(std::string_view raw_field);
    void end_headers();
    void body(std::string_view chunk);

    // Runs the lookups (SPF of `spf` when given) until `deadline`; what is still unanswered
    // then is a temperror.
    boost::asio::awaitable<CheckResults> finish(dns::Resolver& resolver,
                                                std::optional<SpfRequest> spf,
                                                std::chrono::steady_clock::time_point deadline);

  private:
    CheckOptions options_;
    DkimVerifier dkim_;
    ArcVerifier arc_;
    AuthorDomainFinder author_;
    bool body_ended_ = false;
};

// The Authentication-Results field of `results` under `authserv_id`, with the DMARC
// disposition taken.
AuthenticationResults authentication_results(const CheckResults& results,
                                             const std::string& authserv_id);

}  // namespace tern::mailauth
