// What Tern does with a message after DMARC: the receiver's local policy (DMARCbis section 5.4)
// applied to a DmarcResult, with the Domain Owner's t=y test mode and an override for mail that a
// trusted forwarder sealed with ARC (RFC 8617) after seeing it pass. Pure: results in, decision
// out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mailauth/auth_result.h"
#include "mailauth/auth_results.h"
#include "mailauth/dmarc_evaluator.h"
#include "smtp/replies.h"

namespace tern::mailauth {

enum class DmarcAction {
    kAccept,  // deliver as usual
    kTag,     // deliver with a header field saying what failed (for a filter or the user)
    kHold,    // accept and hold in the queue until an operator releases or deletes it
    kReject,  // refuse at the end of DATA: 550 5.7.1
    kDefer,   // refuse for now: 451 4.4.3, for DNS failures under a fail-closed policy
};

// The receiver's local policy: what each DMARC outcome leads to.
struct DmarcLocalPolicy {
    DmarcAction on_reject = DmarcAction::kReject;     // fail under p=reject
    DmarcAction on_quarantine = DmarcAction::kTag;    // fail under p=quarantine
    DmarcAction on_temperror = DmarcAction::kAccept;  // fail open; kDefer fails closed
    DmarcAction on_permerror = DmarcAction::kAccept;  // no single From domain, unusable record
    bool honor_testing = true;  // t=y: apply one level below p= (reject -> quarantine -> none)
    std::vector<std::string> trusted_arc_sealers;  // domains whose ARC results are believed
    std::string tag_header = "X-Tern-DMARC";       // the field kTag adds
};

// The newest ARC set of the message as the ARC verifier saw it (ARC itself is verified
// elsewhere): the chain's validation and the results its sealer recorded in that set's
// ARC-Authentication-Results.
struct ArcEvidence {
    AuthResult chain = AuthResult::kNone;  // cv: none, pass or fail
    int instance = 0;                      // i= of the newest set
    std::string sealer;                    // d= of the newest ARC-Seal
    std::vector<ResultInfo> results;       // what the sealer recorded
};

struct DmarcDisposition {
    DmarcAction action = DmarcAction::kAccept;
    DmarcPolicy applied = DmarcPolicy::kNone;  // the Domain Owner's policy after t=y
    std::optional<smtp::Reply> reply;          // for kReject and kDefer
    std::string header_field;                  // for kTag: "Name: value\r\n"
    // Why the Domain Owner's policy was not followed, in the words of DMARC aggregate reports:
    // "policy_test_mode" (t=y), "trusted_forwarder" (ARC), "local_policy"; empty when it was.
    std::string override_reason;
};

// The Domain Owner Assessment Policy after t=y: one level below when the record tests it.
DmarcPolicy effective_policy(const DmarcResult& dmarc, bool honor_testing = true);

// True when `arc` is a passing chain whose newest sealer is trusted and recorded dmarc=pass for
// `author_domain` (header.from, when the sealer wrote one). Only the newest set counts: its seal
// is the one made over the message as it reached Tern.
bool trusted_arc_pass(const ArcEvidence& arc, const DmarcLocalPolicy& local,
                      const std::string& author_domain);

DmarcDisposition decide_disposition(const DmarcResult& dmarc, const DmarcLocalPolicy& local,
                                    const ArcEvidence* arc = nullptr);

// "accept", "tag", "hold", "reject", "defer".
std::string_view action_name(DmarcAction action);

}  // namespace tern::mailauth
