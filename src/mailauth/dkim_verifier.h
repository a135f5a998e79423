// DkimVerifier: checks every DKIM-Signature of one message (RFC 6376 section 6, RFC 8301,
// RFC 8463), sans-I/O: header fields, body chunks and DNS answers in, one result per signature
// out. Input is untrusted; every cost is bounded by the options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/answer.h"
#include "mailauth/auth_result.h"
#include "mailauth/body_hash.h"
#include "mailauth/dkim_signature.h"
#include "mailauth/key_lookup.h"

namespace tern::mailauth {

struct DkimVerifyOptions {
    std::size_t max_signatures = 10;         // checked per message; the rest: neutral, unchecked
    std::size_t max_header_bytes = 1 << 20;  // header section kept; over it nothing is checked
    KeyLimits key_limits;                    // RSA key sizes accepted
    std::int64_t clock_skew = 300;           // seconds allowed to t= in the future, x= in the past
    bool accept_body_length = false;         // l= shorter than the body: pass (true) or policy
};

struct DkimResult {
    AuthResult result = AuthResult::kNone;  // pass, fail, neutral, policy, temperror, permerror
    std::string reason;                     // why, for anything but a plain pass
    std::string domain;                     // d= (lower case), "" when unreadable
    std::string selector;                   // s= (lower case)
    std::string identity;                   // i=, or "@" + d=
    std::string algorithm;                  // a= as written
    std::string signature_text;             // b= in base64 (header.b of RFC 6008)
    int key_bits = 0;                       // the key's size, when it was fetched
    bool testing = false;                   // the key record says t=y (RFC 6376 3.6.1)
    std::uint64_t unsigned_octets = 0;      // canonical body octets after l=
};

// Use: header() for each field in order, end_headers(), body() for each chunk, end_body(); the
// key queries (next_query/feed, run_lookups) may be driven at any time after end_headers().
// results() is complete once end_body() was called and next_query() returned nullopt.
class DkimVerifier {
  public:
    // `now`: unix seconds, for t= and x=.
    DkimVerifier(DkimVerifyOptions options, std::int64_t now);

    // One raw header field: name, colon, value with its folds, final CRLF.
    void header(std::string_view field);
    void end_headers();
    void body(std::string_view chunk);
    void end_body();

    // LookupDriven: the TXT query for the next key needed, nullopt when none is left.
    std::optional<dns::Query> next_query();
    void feed(const dns::Answer& answer);

    // One result per DKIM-Signature field, top first; empty when the message has none.
    // Signatures whose key was never fed are temperror.
    const std::vector<DkimResult>& results();

  private:
    struct Check {
        std::size_t result = 0;  // index into results_
        DkimSignature signature;
        std::string header_digest;
        std::size_t body_handle = 0;
        std::size_t key = 0;  // index into keys_
    };
    void start_check(std::size_t field, std::size_t result);
    void judge(const Check& check);

    DkimVerifyOptions options_;
    std::int64_t now_;
    std::vector<std::string> fields_;
    std::size_t header_bytes_ = 0;
    bool header_too_large_ = false;  // over max_header_bytes: fields past it were not kept
    bool headers_done_ = false;
    bool body_done_ = false;
    bool judged_ = false;
    std::vector<Check> checks_;
    std::vector<DkimResult> results_;  // one per DKIM-Signature field
    KeyRequests keys_;
    BodyHasher body_;
};

}  // namespace tern::mailauth
