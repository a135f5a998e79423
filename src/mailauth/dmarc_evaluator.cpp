// DMARC evaluation (DMARCbis sections 4.10 and 5.3; RFC 7489 section 6.6.3 as an option). Each
// step is computed afresh from the answers gathered so far, so the evaluation is a plain function
// of its inputs and the DNS answers: when it needs an answer it names the question and stops.
#include "mailauth/dmarc_evaluator.h"

#include <algorithm>

#include "base/text.h"
#include "dns/records.h"
#include "mailauth/domain_name.h"
#include "mailauth/public_suffix_list.h"

namespace tern::mailauth {
namespace {

using State = IdentifierAlignment::State;

std::string quoted_why(const std::string& why) {
    return why.empty() ? "" : " (" + why + ")";
}

}  // namespace

bool DmarcResult::spf_aligned() const {
    return std::any_of(identifiers.begin(), identifiers.end(), [](const auto& i) {
        return i.method == IdentifierAlignment::Method::kSpf && i.state == State::kAligned;
    });
}

bool DmarcResult::dkim_aligned() const {
    return std::any_of(identifiers.begin(), identifiers.end(), [](const auto& i) {
        return i.method == IdentifierAlignment::Method::kDkim && i.state == State::kAligned;
    });
}

DmarcEvaluator::DmarcEvaluator(std::string author_domain, std::optional<SpfEvidence> spf,
                               std::vector<DkimOutcome> dkim, DmarcOptions options)
    : author_(to_a_label(author_domain).value_or("")),
      spf_(std::move(spf)),
      dkim_(std::move(dkim)),
      options_(options) {
    if (options_.discovery == DmarcOptions::Discovery::kPublicSuffixList &&
        options_.public_suffixes == nullptr)
        options_.discovery = DmarcOptions::Discovery::kTreeWalk;
    options_.max_walk_queries = std::max<std::size_t>(options_.max_walk_queries, 1);
    if (author_.empty()) {
        result_.result = AuthResult::kPermError;
        result_.author_domain = std::move(author_domain);
        result_.reason = "the Author Domain is not a DNS name";
        done_ = true;
    }
}

DmarcEvaluator DmarcEvaluator::without_author(std::string why) {
    DmarcEvaluator e;
    e.result_.result = AuthResult::kPermError;
    e.result_.reason = std::move(why);
    e.done_ = true;
    return e;
}

std::optional<dns::Query> DmarcEvaluator::next_query() {
    if (done_) return std::nullopt;
    if (!pending_ && evaluate() == Step::kDone) done_ = true;
    return pending_;
}

void DmarcEvaluator::feed(const dns::Answer& answer) {
    if (!pending_) return;
    ++queries_;
    pending_.reset();
    if (pending_existence_) {
        // DMARCbis appendix A.4: NXDOMAIN means the name does not exist; any other definite
        // answer (records or NODATA) that it does.
        if (answer.status == dns::Answer::Status::kTempFail) {
            existence_failure_ = answer.why.empty() ? "temporary DNS failure" : answer.why;
        } else {
            author_exists_ = answer.status != dns::Answer::Status::kNxDomain;
        }
        return;
    }
    Lookup& l = lookups_[pending_name_];
    if (answer.status == dns::Answer::Status::kTempFail) {
        l.failed = true;
        l.why = answer.why.empty() ? "temporary DNS failure" : answer.why;
        return;
    }
    if (answer.status != dns::Answer::Status::kOk) return;
    std::size_t found = 0;
    for (const std::string& rdata : answer.rdata) {
        auto text = dns::parse_txt(rdata);
        if (!text) continue;  // malformed wire data is no record
        auto record = parse_dmarc_record(*text);
        if (!record) continue;  // not a DMARC record: discarded (section 4.10 step 2)
        if (++found == 1) l.record = std::move(record);
    }
    if (found > 1) {
        l.record.reset();
        l.several = true;
    }
}

// The cached answer for _dmarc.<name>; nullptr after naming the question, or when max_queries
// forbids asking it (then pending_ stays empty).
const DmarcEvaluator::Lookup* DmarcEvaluator::probe(const std::string& name) {
    if (auto it = lookups_.find(name); it != lookups_.end()) return &it->second;
    if (queries_ >= options_.max_queries) return nullptr;
    pending_ = dns::Query{"_dmarc." + name, dns::RecordType::kTxt};
    pending_name_ = name;
    pending_existence_ = false;
    return nullptr;
}

// Section 4.10 steps 3-7: the start, then (x < 8) its parent or (x >= 8) its last seven labels,
// then one label less each time, down to the top-level domain.
std::vector<std::string> DmarcEvaluator::walk_targets(const std::string& start) const {
    std::vector<std::string> targets{start};
    std::size_t n = label_count(start);
    std::size_t limit = options_.max_walk_queries;
    if (n <= 1 || limit == 1) return targets;
    std::size_t next = n < limit ? n - 1 : limit - 1;
    for (std::size_t count = next; count >= 1; --count)
        targets.emplace_back(last_labels(start, count));
    return targets;
}

// Section 4.10.2: the records found from the longest name to the shortest; the walk stops at
// psd=y or psd=n. psd=n: that domain; psd=y (not at the start): the domain one label below it;
// otherwise the record with the fewest labels; with no record, the start itself.
DmarcEvaluator::OrgSearch DmarcEvaluator::tree_walk(const std::string& start) {
    using S = OrgSearch::State;
    std::string last;
    const DmarcRecord* last_record = nullptr;
    for (const std::string& target : walk_targets(start)) {
        const Lookup* l = probe(target);
        if (l == nullptr) return {pending_ ? S::kWait : S::kLimit, target, {}};
        if (l->failed) return {S::kFailed, target, {}};
        if (!l->record) continue;
        last = target;
        last_record = &*l->record;
        if (last_record->psd != PsdFlag::kUnknown) break;
    }
    if (last_record == nullptr) return {S::kFound, start, {}};
    if (last_record->psd == PsdFlag::kYes && last != start)
        return {S::kFound, std::string(last_labels(start, label_count(last) + 1)), last};
    return {S::kFound, last, {}};
}

DmarcEvaluator::OrgSearch DmarcEvaluator::organizational_domain(const std::string& domain) {
    if (options_.discovery == DmarcOptions::Discovery::kPublicSuffixList)
        return {OrgSearch::State::kFound,
                std::string(options_.public_suffixes->organizational_domain(domain)),
                {}};
    return tree_walk(domain);
}

DmarcEvaluator::Step DmarcEvaluator::evaluate() {
    DmarcResult r;
    r.author_domain = author_;
    Step step = discover_policy(r);
    bool applies = step == Step::kDone && r.record && r.result == AuthResult::kNone;
    if (applies) step = align(r);
    if (applies && step == Step::kDone) step = choose_scope(r);
    r.queries = queries_;
    result_ = std::move(r);
    return step;
}

// Section 4.10.1: the record at the Author Domain, else at its Organizational Domain, else at
// its Public Suffix Domain (tree walk); RFC 7489 6.6.3: the Author Domain, else the
// Organizational Domain of the public suffix list.
DmarcEvaluator::Step DmarcEvaluator::discover_policy(DmarcResult& r) {
    auto stop = [&](AuthResult result, std::string reason) {
        r.result = result;
        r.reason = std::move(reason);
        return Step::kDone;
    };
    auto unavailable = [&](const std::string& name) {
        if (pending_) return Step::kWait;
        return stop(AuthResult::kPermError, "DNS query limit (" +
                                                std::to_string(options_.max_queries) +
                                                ") reached before _dmarc." + name + " was asked");
    };
    const Lookup* own = probe(author_);
    if (own == nullptr) return unavailable(author_);
    if (own->failed)
        return stop(AuthResult::kTempError,
                    "DNS failure at _dmarc." + author_ + quoted_why(own->why));
    std::string several = own->several ? "several DMARC records at _dmarc." + author_ : "";
    std::string policy_domain;
    if (own->record) {
        policy_domain = author_;
    } else {
        OrgSearch org = organizational_domain(author_);
        if (org.state == OrgSearch::State::kWait) return Step::kWait;
        if (org.state == OrgSearch::State::kLimit) return unavailable(org.name);
        if (org.state == OrgSearch::State::kFailed)
            return stop(AuthResult::kTempError,
                        "DNS failure at _dmarc." + org.name + quoted_why(lookups_[org.name].why));
        r.organizational_domain = org.name;
        const Lookup* at_org = org.name == author_ ? own : probe(org.name);
        if (at_org == nullptr) return unavailable(org.name);
        if (at_org->failed)
            return stop(AuthResult::kTempError,
                        "DNS failure at _dmarc." + org.name + quoted_why(at_org->why));
        if (at_org->record) {
            policy_domain = org.name;
        } else if (!org.psd.empty()) {
            policy_domain = org.psd;
        }
    }
    if (policy_domain.empty()) {
        return stop(AuthResult::kNone, several.empty() ? "no DMARC record for " + author_
                                                       : several + ", all discarded");
    }
    r.policy_domain = policy_domain;
    r.record = lookups_[policy_domain].record;
    r.testing = r.record->testing;
    if (!r.record->usable()) {
        return stop(AuthResult::kPermError, "the DMARC record at _dmarc." + policy_domain +
                                                " has an invalid p=, sp= or np= and no valid rua=");
    }
    return Step::kDone;
}

// The authenticated identifiers DMARC uses (section 4.4): a passing SPF check of the MAIL FROM
// identity, and the d= of each passing DKIM signature (each domain once, up to max_identifiers).
std::vector<IdentifierAlignment> DmarcEvaluator::candidates() const {
    using M = IdentifierAlignment::Method;
    std::vector<IdentifierAlignment> out;
    if (spf_ && spf_->result == AuthResult::kPass &&
        spf_->identity == SpfEvidence::Identity::kMailFrom) {
        out.push_back(
            {M::kSpf, to_a_label(spf_->domain).value_or(spf_->domain), {}, State::kNotChecked});
    }
    for (const DkimOutcome& d : dkim_) {
        if (d.result != AuthResult::kPass) continue;
        std::string domain = to_a_label(d.domain).value_or(d.domain);
        bool seen = std::any_of(out.begin(), out.end(), [&](const IdentifierAlignment& i) {
            return i.method == M::kDkim && i.domain == domain;
        });
        if (seen) continue;
        out.push_back({M::kDkim, std::move(domain), d.selector, State::kNotChecked});
    }
    return out;
}

// Sections 4.4 and 4.10.2: an identifier equal to the Author Domain is aligned in either mode;
// strict alignment wants nothing more; relaxed alignment compares Organizational Domains, and
// only when the Author's is the identifier or above it can they be the same.
DmarcEvaluator::Step DmarcEvaluator::align(DmarcResult& r) {
    using S = OrgSearch::State;
    r.identifiers = candidates();
    std::size_t dkim_seen = 0;
    for (IdentifierAlignment& id : r.identifiers) {
        bool is_dkim = id.method == IdentifierAlignment::Method::kDkim;
        if (is_dkim && ++dkim_seen > options_.max_identifiers) continue;  // stays kNotChecked
        Alignment mode = is_dkim ? r.record->adkim : r.record->aspf;
        if (id.domain == author_) {
            id.state = State::kAligned;
            continue;
        }
        if (mode == Alignment::kStrict || !to_a_label(id.domain)) {
            id.state = State::kNotAligned;
            continue;
        }
        OrgSearch author_org = organizational_domain(author_);
        if (author_org.state == S::kWait) return Step::kWait;
        if (author_org.state != S::kFound) {
            id.state = author_org.state == S::kFailed ? State::kUnknown : State::kNotChecked;
            continue;
        }
        r.organizational_domain = author_org.name;
        if (!is_same_or_below(id.domain, author_org.name)) {
            id.state = State::kNotAligned;
            continue;
        }
        OrgSearch own = organizational_domain(id.domain);
        if (own.state == S::kWait) return Step::kWait;
        if (own.state != S::kFound) {
            id.state = own.state == S::kFailed ? State::kUnknown : State::kNotChecked;
            continue;
        }
        id.state = own.name == author_org.name ? State::kAligned : State::kNotAligned;
    }
    auto any = [&](State s) {
        return std::any_of(r.identifiers.begin(), r.identifiers.end(),
                           [s](const IdentifierAlignment& i) { return i.state == s; });
    };
    if (any(State::kAligned)) {
        r.result = AuthResult::kPass;
    } else if (any(State::kUnknown)) {
        r.result = AuthResult::kTempError;
        r.reason = "DNS failure finding an Organizational Domain";
    } else {
        r.result = AuthResult::kFail;
        r.reason = r.identifiers.empty() ? "no SPF or DKIM pass to align with " + author_
                                         : "no SPF or DKIM pass aligned with " + author_;
    }
    return Step::kDone;
}

// Which of p=, sp= and np= applies (section 4.10.1). Whether the Author Domain exists is asked
// only when it matters: a failing message, a record above the Author Domain, and an np= tag.
DmarcEvaluator::Step DmarcEvaluator::choose_scope(DmarcResult& r) {
    using Scope = DmarcRecord::Scope;
    r.scope = r.policy_domain == author_ ? Scope::kDomain : Scope::kSubdomain;
    if (r.scope == Scope::kSubdomain && r.result == AuthResult::kFail && r.record->np &&
        r.record->policy_tags_valid()) {
        if (!existence_failure_.empty()) {
            r.result = AuthResult::kTempError;
            r.reason =
                "DNS failure asking whether " + author_ + " exists (" + existence_failure_ + ")";
        } else if (!author_exists_ && queries_ < options_.max_queries) {
            pending_ = dns::Query{author_, dns::RecordType::kA};
            pending_existence_ = true;
            return Step::kWait;
        } else if (author_exists_ && !*author_exists_) {
            r.scope = Scope::kNonExistentSubdomain;
        }
    }
    r.policy = r.record->policy_for(r.scope);
    return Step::kDone;
}

}  // namespace tern::mailauth
