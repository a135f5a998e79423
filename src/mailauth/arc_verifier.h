// ArcVerifier: validates the Authenticated Received Chain of one message (RFC 8617 section
// 5.2), sans-I/O: header fields, body chunks and DNS answers in, the chain validation status
// (cv= none, pass or fail) out. Input is untrusted; every cost is bounded by the options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/answer.h"
#include "mailauth/arc_set.h"
#include "mailauth/auth_result.h"
#include "mailauth/body_hash.h"
#include "mailauth/key_lookup.h"

namespace tern::mailauth {

// The chain validation status of RFC 8617 section 4.4, the cv= of a new ARC-Seal.
enum class ChainStatus { kNone, kPass, kFail };

// "none", "pass", "fail".
std::string_view chain_status_name(ChainStatus status);

struct ArcVerifyOptions {
    unsigned max_instances = kMaxArcInstance;  // ARC sets accepted; more: fail (RFC: 50)
    std::size_t max_header_bytes = 1 << 20;    // header kept; over it the chain fails unchecked
    KeyLimits key_limits;                      // RSA key sizes accepted
    std::int64_t clock_skew = 300;             // seconds allowed to t= ahead, x= behind
    bool find_oldest_pass = true;  // also check the older AMS (a key and a body hash each)
};

// What was found about one ARC set.
struct ArcSetResult {
    unsigned instance = 0;
    std::string seal_domain;                   // the AS d= (lower case)
    std::string seal_selector;                 // the AS s=
    std::string signature_domain;              // the AMS d=
    std::string signature_selector;            // the AMS s=
    std::string results;                       // the AAR payload, unfolded
    AuthResult seal = AuthResult::kNone;       // pass/fail/temperror/permerror; none: unchecked
    AuthResult signature = AuthResult::kNone;  // the same for the AMS
    std::string reason;                        // why the AS or AMS did not pass
};

struct ArcResult {
    AuthResult result = AuthResult::kNone;  // none, pass or fail (RFC 8617 section 4.4)
    bool temporary = false;    // fail because a key lookup failed for now: trying later may pass
    std::string reason;        // why, for fail
    unsigned instances = 0;    // N, the newest instance (0: no chain)
    unsigned oldest_pass = 0;  // lowest i whose AMS and all newer ones verify; 0: unknown
    std::vector<ArcSetResult> sets;  // by instance, when the structure is sound

    // The cv= a sealer writes after this result: fail for anything but none and pass.
    ChainStatus chain_status() const;
};

// Use: header() for each field in order, end_headers(), body() for each chunk, end_body(); the
// key queries (next_query/feed, run_lookups) may be driven at any time after end_headers().
// result() is complete once end_body() was called and next_query() returned nullopt.
class ArcVerifier {
  public:
    // `now`: unix seconds, for t= and x=.
    ArcVerifier(ArcVerifyOptions options, std::int64_t now);

    // One raw header field: name, colon, value with its folds, final CRLF.
    void header(std::string_view field);
    void end_headers();
    void body(std::string_view chunk);
    void end_body();

    // LookupDriven: the TXT query for the next key needed, nullopt when none is left. The
    // seals' keys come first, newest first; after a seal fails no more are asked.
    std::optional<dns::Query> next_query();
    void feed(const dns::Answer& answer);

    // The chain validation. Keys never fed make the chain fail as temporary.
    const ArcResult& result();

  private:
    struct Check {
        std::size_t set = 0;  // index into sets_ (instance - 1)
        bool seal = false;    // an ARC-Seal, else an ARC-Message-Signature
        DkimSignature signature;
        std::optional<SignatureProblem> syntax;  // set: fails without a key
        std::string header_digest;
        std::size_t body_handle = 0;  // AMS only
        std::size_t key = 0;          // index into keys_
        std::optional<SignatureProblem> outcome;
        bool judged = false;
    };
    void fail(std::string reason, bool temporary = false);
    void start(ArcChain chain);
    void add_check(std::size_t set, bool seal, ParsedSignature parsed, std::string digest);
    void judge(Check& check);
    void judge_seals();
    void decide();

    ArcVerifyOptions options_;
    std::int64_t now_;
    std::vector<std::string> fields_;
    std::size_t header_bytes_ = 0;
    bool header_too_large_ = false;  // over max_header_bytes: fields past it were not kept
    bool arc_seen_ = false;          // an ARC field, kept or not
    bool headers_done_ = false;
    bool body_done_ = false;
    bool decided_ = false;
    bool seal_failed_ = false;  // a seal did not pass: no more seal keys are asked
    ArcResult result_;
    std::vector<Check> checks_;  // the seals newest first, then the AMS newest first
    KeyRequests keys_;
    BodyHasher body_;
};

}  // namespace tern::mailauth
