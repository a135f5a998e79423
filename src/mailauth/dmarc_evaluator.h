// DmarcEvaluator: DMARC (DMARCbis, with RFC 7489's public suffix list as an option) for one
// message, sans-I/O: the Author Domain and the SPF and DKIM outcomes in, TXT queries for
// _dmarc.<name> out (LookupDriven, see lookups.h), a DmarcResult at the end. DNS answers are
// untrusted: every answer, however malformed, leads to a result within the limits below.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dns/answer.h"
#include "mailauth/auth_result.h"
#include "mailauth/dmarc_record.h"

namespace tern::mailauth {

class PublicSuffixList;

// What SPF said, as DMARC needs it (DMARCbis section 5.3.3): the result and the domain it was
// evaluated for (spf_evidence() in dmarc_inputs.h makes it from SpfCheck's outcome).
struct SpfEvidence {
    enum class Identity {
        kMailFrom,  // the RFC5321.MailFrom domain, or for a null path the HELO name standing in
                    // for it (RFC 7208 section 2.4): the identity DMARC aligns
        kHelo,      // a separate check of the HELO identity, which DMARC does not use
    };
    AuthResult result = AuthResult::kNone;
    std::string domain;
    Identity identity = Identity::kMailFrom;
    std::string mail_from;  // for Authentication-Results: the whole address, when not null
    std::string reason;     // for Authentication-Results: why, when not pass
};

// What DKIM said about one signature: its result, d= and s=.
struct DkimOutcome {
    AuthResult result = AuthResult::kNone;
    std::string domain;       // d=
    std::string selector;     // s=
    std::string signature_b;  // b=, for header.b in Authentication-Results (RFC 6008)
    std::string reason;       // for Authentication-Results: why, when not pass
};

// Limits and choices; each limit bounds the DNS work one message can cause.
struct DmarcOptions {
    enum class Discovery {
        kTreeWalk,          // DMARCbis section 4.10 (the default)
        kPublicSuffixList,  // RFC 7489 sections 3.2 and 6.6.3; needs `public_suffixes`
    };
    Discovery discovery = Discovery::kTreeWalk;
    const PublicSuffixList* public_suffixes = nullptr;  // borrowed; must outlive the evaluator
    std::size_t max_walk_queries = 8;  // DNS queries of one tree walk (DMARCbis: eight)
    std::size_t max_identifiers = 10;  // distinct DKIM d= domains whose alignment is checked
    std::size_t max_queries = 40;      // DNS queries of the whole evaluation
};

// How one authenticated identifier compared with the Author Domain.
struct IdentifierAlignment {
    enum class Method { kSpf, kDkim };
    enum class State {
        kAligned,
        kNotAligned,
        kUnknown,     // a DNS failure kept its Organizational Domain from being known
        kNotChecked,  // over max_identifiers or max_queries, or not needed
    };
    Method method = Method::kSpf;
    std::string domain;    // the SPF domain or DKIM d=
    std::string selector;  // DKIM s=
    State state = State::kNotChecked;
};

struct DmarcResult {
    // none: no DMARC Policy Record applies (or no evaluation was possible before one was found);
    // pass/fail; temperror: a DNS failure (fail open or closed is local policy); permerror: the
    // message has no single Author Domain, or the record applying gives no usable policy.
    AuthResult result = AuthResult::kNone;
    std::string author_domain;
    std::string policy_domain;          // where the record applied was published
    std::string organizational_domain;  // of the Author Domain, when it was determined
    std::optional<DmarcRecord> record;  // the record applied
    DmarcRecord::Scope scope = DmarcRecord::Scope::kDomain;  // which of p=, sp=, np= applies
    DmarcPolicy policy = DmarcPolicy::kNone;  // the Domain Owner Assessment Policy (before t=y)
    bool testing = false;                     // the record says t=y
    std::vector<IdentifierAlignment> identifiers;
    std::string reason;       // one line for Authentication-Results and logs
    std::size_t queries = 0;  // DNS queries asked

    bool spf_aligned() const;
    bool dkim_aligned() const;
};

class DmarcEvaluator {
  public:
    // `author_domain` is the Author Domain (AuthorDomainFinder; A-labels).
    DmarcEvaluator(std::string author_domain, std::optional<SpfEvidence> spf,
                   std::vector<DkimOutcome> dkim, DmarcOptions options = {});

    // A message without a single Author Domain: the result is permerror with `why` as reason.
    static DmarcEvaluator without_author(std::string why);

    std::optional<dns::Query> next_query();
    void feed(const dns::Answer& answer);

    // Valid once next_query() has returned nullopt.
    const DmarcResult& result() const { return result_; }

  private:
    // What the DNS said at _dmarc.<name>.
    struct Lookup {
        bool failed = false;                // a temporary failure
        std::string why;                    // what failed
        std::optional<DmarcRecord> record;  // exactly one DMARC record was published
        bool several = false;               // several were, and all are discarded
    };
    // An Organizational Domain search: found, waiting for an answer, stopped by a DNS failure,
    // or stopped by max_queries.
    struct OrgSearch {
        enum class State { kFound, kWait, kFailed, kLimit };
        State state = State::kFound;
        std::string name;  // kFound: the Organizational Domain; kFailed: the name that failed
        std::string psd;   // kFound by tree walk: the domain with psd=y the walk stopped at
    };
    enum class Step { kDone, kWait };

    DmarcEvaluator() = default;
    Step evaluate();
    Step discover_policy(DmarcResult& r);
    Step align(DmarcResult& r);
    Step choose_scope(DmarcResult& r);
    const Lookup* probe(const std::string& name);
    OrgSearch organizational_domain(const std::string& domain);
    OrgSearch tree_walk(const std::string& start);
    std::vector<std::string> walk_targets(const std::string& start) const;
    std::vector<IdentifierAlignment> candidates() const;

    std::string author_;
    std::optional<SpfEvidence> spf_;
    std::vector<DkimOutcome> dkim_;
    DmarcOptions options_;
    DmarcResult result_;
    bool done_ = false;
    std::size_t queries_ = 0;
    std::map<std::string, Lookup> lookups_;  // answers by name (without "_dmarc.")
    std::optional<dns::Query> pending_;
    std::string pending_name_;        // the domain whose _dmarc record is asked for
    bool pending_existence_ = false;  // the question is whether the Author Domain exists
    std::optional<bool> author_exists_;
    std::string existence_failure_;  // why the existence question failed
};

}  // namespace tern::mailauth
