// The local policy table of DMARC dispositions; the replies come from smtp/replies.cpp.
#include "mailauth/dmarc_disposition.h"

#include <algorithm>

#include "base/text.h"
#include "mailauth/domain_name.h"
#include "message/header_text.h"

namespace tern::mailauth {
namespace {

DmarcPolicy one_level_below(DmarcPolicy p) {
    return p == DmarcPolicy::kReject ? DmarcPolicy::kQuarantine : DmarcPolicy::kNone;
}

bool trusted(const std::vector<std::string>& sealers, const std::string& sealer) {
    auto name = to_a_label(sealer);
    if (!name) return false;
    return std::any_of(sealers.begin(), sealers.end(), [&](const std::string& s) {
        auto t = to_a_label(s);
        return t && *t == *name;
    });
}

std::string from_domain_of(const ResultInfo& info) {
    for (const AuthProperty& p : info.properties)
        if (ascii_iequals(p.ptype, "header") && ascii_iequals(p.property, "from")) return p.value;
    return {};
}

}  // namespace

DmarcPolicy effective_policy(const DmarcResult& dmarc, bool honor_testing) {
    if (honor_testing && dmarc.testing)
        return dmarc.policy == DmarcPolicy::kNone ? DmarcPolicy::kNone
                                                  : one_level_below(dmarc.policy);
    return dmarc.policy;
}

bool trusted_arc_pass(const ArcEvidence& arc, const DmarcLocalPolicy& local,
                      const std::string& author_domain) {
    if (arc.chain != AuthResult::kPass || !trusted(local.trusted_arc_sealers, arc.sealer))
        return false;
    return std::any_of(arc.results.begin(), arc.results.end(), [&](const ResultInfo& r) {
        if (!ascii_iequals(r.method, "dmarc") || !ascii_iequals(r.result, "pass")) return false;
        std::string from = from_domain_of(r);
        if (from.empty()) return true;
        auto name = to_a_label(from);
        return name && *name == author_domain;
    });
}

DmarcDisposition decide_disposition(const DmarcResult& dmarc, const DmarcLocalPolicy& local,
                                    const ArcEvidence* arc) {
    DmarcDisposition d;
    d.applied = effective_policy(dmarc, local.honor_testing);
    switch (dmarc.result) {
        case AuthResult::kFail:
            break;
        case AuthResult::kTempError:
            d.action = local.on_temperror;
            break;
        case AuthResult::kPermError:
            d.action = local.on_permerror;
            break;
        default:
            return d;  // pass and none: nothing to do
    }
    if (dmarc.result == AuthResult::kFail) {
        if (d.applied == DmarcPolicy::kReject) d.action = local.on_reject;
        if (d.applied == DmarcPolicy::kQuarantine) d.action = local.on_quarantine;
        bool weaker =
            (dmarc.policy == DmarcPolicy::kReject && d.action != DmarcAction::kReject) ||
            (dmarc.policy == DmarcPolicy::kQuarantine && d.action == DmarcAction::kAccept);
        if (d.action != DmarcAction::kAccept && arc != nullptr &&
            trusted_arc_pass(*arc, local, dmarc.author_domain)) {
            d.action = DmarcAction::kAccept;
            d.override_reason = "trusted_forwarder";
        } else if (d.applied != dmarc.policy) {
            d.override_reason = "policy_test_mode";
        } else if (weaker) {
            d.override_reason = "local_policy";
        }
    }
    std::string domain = dmarc.policy_domain.empty() ? dmarc.author_domain : dmarc.policy_domain;
    if (d.action == DmarcAction::kReject) {
        d.reply =
            smtp::reply(smtp::ReplyName::kDmarcRejected,
                        dmarc.result == AuthResult::kFail
                            ? "Email rejected per DMARC policy for " + domain
                            : "Email rejected: DMARC evaluation failed for " + dmarc.author_domain);
    } else if (d.action == DmarcAction::kDefer) {
        d.reply = smtp::reply(
            smtp::ReplyName::kDmarcTemporary,
            "DMARC policy for " + dmarc.author_domain + " could not be retrieved, try again later");
    } else if (d.action == DmarcAction::kTag) {
        std::string value = std::string(result_name(dmarc.result)) +
                            " policy=" + std::string(policy_name(d.applied)) +
                            (domain.empty() ? "" : " domain=" + domain);
        d.header_field =
            message::fold_header(local.tag_header, message::clean_header_text(value, false));
    }
    return d;
}

std::string_view action_name(DmarcAction action) {
    switch (action) {
        case DmarcAction::kAccept:
            return "accept";
        case DmarcAction::kTag:
            return "tag";
        case DmarcAction::kHold:
            return "hold";
        case DmarcAction::kReject:
            return "reject";
        case DmarcAction::kDefer:
            return "defer";
    }
    return "accept";
}

}  // namespace tern::mailauth
