// check_host() (RFC 7208) as a state machine: a stack of frames (the top check_host() and one
// per include: being evaluated), each fetching its record and walking its directives; the
// client's validated names (section 5.5) found once for ptr and %{p}; the explanation of a fail
// (section 6.2) fetched last. Each DNS answer moves it on until it needs the next question.
#include "mailauth/spf.h"

#include <utility>

#include "base/text.h"
#include "dns/records.h"

namespace tern::mailauth {
namespace {

using Status = dns::Answer::Status;

// Labels of 1-63 octets, 253 octets in all, at least `min_labels` of them.
bool dns_name_ok(std::string_view name, std::size_t min_labels) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t labels = 0;
    while (true) {
        std::size_t dot = name.find('.');
        std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) return false;
        ++labels;
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
    }
    return labels >= min_labels;
}

// True when `name` is `domain` or a subdomain of it, ignoring case.
bool within(std::string_view name, std::string_view domain) {
    if (name.size() == domain.size()) return ascii_iequals(name, domain);
    if (name.size() < domain.size() + 1) return false;
    return name[name.size() - domain.size() - 1] == '.' &&
           ascii_iequals(name.substr(name.size() - domain.size()), domain);
}

AuthResult result_of(SpfQualifier q) {
    switch (q) {
        case SpfQualifier::kPass:
            return AuthResult::kPass;
        case SpfQualifier::kFail:
            return AuthResult::kFail;
        case SpfQualifier::kSoftFail:
            return AuthResult::kSoftFail;
        case SpfQualifier::kNeutral:
            return AuthResult::kNeutral;
    }
    return AuthResult::kNeutral;
}

std::string dns_problem(const dns::Answer& a) {
    return a.why.empty() ? std::string("temporary DNS failure") : a.why;
}

}  // namespace

bool valid_spf_domain(std::string_view name, bool identity) {
    if (!identity) return dns_name_ok(name, 1);
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return dns_name_ok(name, 2);
}

SpfCheck::SpfCheck(SpfRequest request, SpfOptions options)
    : request_(std::move(request)), options_(options) {
    bool helo = request_.identity == SpfIdentity::kHelo || request_.sender.empty();
    outcome_.identity = helo ? SpfIdentity::kHelo : SpfIdentity::kMailFrom;
    std::string domain = request_.helo;
    local_part_ = "postmaster";
    if (!helo) {
        std::size_t at = request_.sender.rfind('@');
        domain = request_.sender.substr(at == std::string::npos ? 0 : at + 1);
        if (at != std::string::npos && at > 0) local_part_ = request_.sender.substr(0, at);
    }
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    sender_domain_ = domain;
    outcome_.sender = local_part_ + "@" + domain;
    outcome_.domain = domain;
    outcome_.record_domain = domain;
    if (!valid_spf_domain(domain, true)) {
        conclude(AuthResult::kNone, "'" + domain + "' is not a domain name SPF can check");
        return;
    }
    stack_.push_back(Frame{.domain = domain});
    run();
}

std::optional<dns::Query> SpfCheck::next_query() const {
    return pending_;
}

void SpfCheck::feed(const dns::Answer& answer) {
    if (done_ || !pending_) return;
    pending_.reset();
    Wait wait = std::exchange(wait_, Wait::kNone);
    switch (wait) {
        case Wait::kNone:
            break;
        case Wait::kRecord:
            on_record(stack_.back(), answer);
            break;
        case Wait::kAddress:
            on_address(stack_.back(), answer, false);
            break;
        case Wait::kExists:
            on_address(stack_.back(), answer, true);
            break;
        case Wait::kMx:
            on_mx(stack_.back(), answer);
            break;
        case Wait::kMxHost:
            on_mx_host(stack_.back(), answer);
            break;
        case Wait::kPtrNames:
            on_ptr_names(answer);
            break;
        case Wait::kPtrHost:
            on_ptr_host(answer);
            break;
        case Wait::kExplanation:
            on_explanation(answer);
            break;
    }
    run();
}

void SpfCheck::time_out() {
    if (done_) return;
    if (exp_stage_ != ExpStage::kOff) {  // the result is known; only its explanation is lost
        exp_stage_ = ExpStage::kOff;
        pending_.reset();
        done_ = true;
        return;
    }
    conclude(AuthResult::kTempError,
             "the check took longer than its time budget (RFC 7208 section 4.6.4)");
}

void SpfCheck::run() {
    while (!done_ && !pending_) {
        if (validation_.wanted && !validation_.done) {
            step_validation();
        } else if (exp_stage_ != ExpStage::kOff) {
            step_explanation();
        } else {
            step_frame(stack_.back());
        }
    }
}

void SpfCheck::step_frame(Frame& f) {
    if (!f.fetched) return ask(f.domain, dns::RecordType::kTxt, Wait::kRecord);
    if (f.index < f.record.directives.size())
        return step_directive(f, f.record.directives[f.index]);
    if (!f.record.redirect) {
        return end_frame(AuthResult::kNeutral, "no mechanism matched in the record of " + f.domain +
                                                   ": neutral by default");
    }
    // Section 6.1: redirect= is a new check_host() for the target, in place of this one.
    if (!f.counted) {
        if (++outcome_.dns_terms > options_.max_dns_terms)
            return conclude(AuthResult::kPermError, "more than " +
                                                        std::to_string(options_.max_dns_terms) +
                                                        " DNS-querying terms (at redirect=)");
        f.counted = true;
    }
    auto target = target_name(*f.record.redirect, f.domain);
    if (!target) return;
    if (!dns_name_ok(*target, 2))
        return conclude(AuthResult::kPermError, "redirect=" + *f.record.redirect + " in " +
                                                    f.domain + " names no valid domain");
    bool include = f.include;
    f = Frame{.domain = *target, .include = include, .redirected = true};
}

void SpfCheck::step_directive(Frame& f, const SpfDirective& d) {
    switch (d.mechanism) {
        case SpfMechanism::kAll:
            return matched(f, d, "");
        case SpfMechanism::kIp4:
        case SpfMechanism::kIp6: {
            unsigned prefix = d.mechanism == SpfMechanism::kIp4 ? d.cidr4 : d.cidr6;
            if (d.network.same_network(request_.client, prefix)) return matched(f, d, "");
            return next_directive(f);
        }
        default:
            break;
    }
    if (!f.counted) {
        if (++outcome_.dns_terms > options_.max_dns_terms)
            return conclude(AuthResult::kPermError,
                            "more than " + std::to_string(options_.max_dns_terms) +
                                " DNS-querying terms (at " + d.text + " in " + f.domain + ")");
        f.counted = true;
    }
    if (d.mechanism == SpfMechanism::kPtr && !validation_.done) {
        validation_.wanted = true;
        return;
    }
    if (!f.target) {
        auto target = target_name(d.domain_spec, f.domain);
        if (!target) return;
        f.target = std::move(*target);
    }
    const std::string& target = *f.target;
    if (target.empty()) {
        // Section 4.8: a target that is no domain name matches nothing; include: of it
        // would be check_host() on a malformed domain, "none", which include: makes permerror.
        if (d.mechanism == SpfMechanism::kInclude)
            return conclude(AuthResult::kPermError,
                            d.text + " in " + f.domain + " names no valid domain");
        return next_directive(f);
    }
    switch (d.mechanism) {
        case SpfMechanism::kA:
            return ask(target, address_type(), Wait::kAddress);
        case SpfMechanism::kExists:
            return ask(target, dns::RecordType::kA, Wait::kExists);
        case SpfMechanism::kMx:
            return ask(target, dns::RecordType::kMx, Wait::kMx);
        case SpfMechanism::kPtr: {
            if (validation_.void_answer && !count_void(d.text)) return;
            for (const auto& name : validation_.validated)
                if (within(name, target)) return matched(f, d, "validated name " + name);
            return next_directive(f);
        }
        case SpfMechanism::kInclude: {
            if (!dns_name_ok(target, 2))
                return conclude(AuthResult::kPermError,
                                d.text + " in " + f.domain + " names no valid domain");
            std::string domain = target;
            stack_.push_back(Frame{.domain = std::move(domain), .include = true});
            return;  // `f` may dangle from here on
        }
        default:
            return next_directive(f);
    }
}

void SpfCheck::step_validation() {
    if (!validation_.started) {
        validation_.started = true;
        return ask(request_.client.reverse_name(), dns::RecordType::kPtr, Wait::kPtrNames);
    }
    if (validation_.next < validation_.names.size())
        return ask(validation_.names[validation_.next], address_type(), Wait::kPtrHost);
    validation_.done = true;
}

void SpfCheck::step_explanation() {
    if (exp_stage_ == ExpStage::kName) {
        auto name = target_name(exp_spec_, exp_domain_);
        if (!name) return;
        if (name->empty()) {
            exp_stage_ = ExpStage::kOff;
            done_ = true;
            return;
        }
        return ask(*name, dns::RecordType::kTxt, Wait::kExplanation);
    }
    if (uses_validated_name(exp_text_) && !validation_.done) {
        validation_.wanted = true;
        return;
    }
    if (auto text = expand_macros(exp_text_, MacroUse::kExplanation, values_for(exp_domain_)))
        outcome_.explanation = std::move(*text);
    exp_stage_ = ExpStage::kOff;
    done_ = true;
}

void SpfCheck::on_record(Frame& f, const dns::Answer& a) {
    if (a.status == Status::kTempFail)
        return conclude(AuthResult::kTempError, "DNS error looking up the SPF record of " +
                                                    f.domain + ": " + dns_problem(a));
    std::vector<std::string> found;
    if (a.status == Status::kOk) {
        for (const auto& rdata : a.rdata) {
            auto txt = dns::parse_txt(rdata);
            if (txt && is_spf_record(*txt)) found.push_back(std::move(*txt));
        }
    }
    if (found.empty())
        return end_frame(AuthResult::kNone,
                         std::string("no SPF record at ") + f.domain +
                             (a.status == Status::kNxDomain ? " (no such domain)" : ""));
    if (found.size() > 1)
        return conclude(AuthResult::kPermError, "more than one SPF record at " + f.domain);
    if (found[0].size() > options_.max_record_length)
        return conclude(AuthResult::kPermError,
                        "the SPF record of " + f.domain + " is longer than " +
                            std::to_string(options_.max_record_length) + " octets");
    auto record = parse_spf_record(found[0]);
    if (!record)
        return conclude(AuthResult::kPermError, "syntax error in the SPF record of " + f.domain +
                                                    ": " + record.error().message);
    f.record = std::move(*record);
    f.fetched = true;
}

void SpfCheck::on_address(Frame& f, const dns::Answer& a, bool exists) {
    const SpfDirective& d = f.record.directives[f.index];
    if (a.status == Status::kTempFail)
        return conclude(AuthResult::kTempError, "DNS error looking up " + *f.target + " for " +
                                                    d.text + ": " + dns_problem(a));
    if (a.status != Status::kOk) {
        if (!count_void(d.text + " in " + f.domain)) return;
        return next_directive(f);
    }
    if (exists) return matched(f, d, "");
    unsigned prefix = request_.client.is_v6() ? d.cidr6 : d.cidr4;
    for (const auto& rdata : a.rdata) {
        auto address = IpAddress::from_bytes(rdata);
        if (address && address->same_network(request_.client, prefix)) return matched(f, d, "");
    }
    next_directive(f);
}

void SpfCheck::on_mx(Frame& f, const dns::Answer& a) {
    const SpfDirective& d = f.record.directives[f.index];
    if (a.status == Status::kTempFail)
        return conclude(AuthResult::kTempError, "DNS error looking up the MX of " + *f.target +
                                                    " for " + d.text + ": " + dns_problem(a));
    if (a.status != Status::kOk) {
        if (!count_void(d.text + " in " + f.domain)) return;
        return next_directive(f);
    }
    f.hosts.clear();
    for (const auto& rdata : a.rdata) {
        auto mx = dns::parse_mx(rdata);
        if (mx && !mx->exchange.empty()) f.hosts.push_back(std::move(mx->exchange));
    }
    // Section 4.6.4: looking up more than max_names_per_lookup MX names is a permerror. Said
    // before any lookup, so that the result does not depend on the order of the MX records.
    if (f.hosts.size() > options_.max_names_per_lookup)
        return conclude(AuthResult::kPermError, d.text + " in " + f.domain + ": more than " +
                                                    std::to_string(options_.max_names_per_lookup) +
                                                    " MX names");
    f.host = 0;
    next_mx_host(f);
}

void SpfCheck::on_mx_host(Frame& f, const dns::Answer& a) {
    const SpfDirective& d = f.record.directives[f.index];
    const std::string& host = f.hosts[f.host];
    if (a.status == Status::kTempFail)
        return conclude(AuthResult::kTempError,
                        "DNS error looking up " + host + " for " + d.text + ": " + dns_problem(a));
    unsigned prefix = request_.client.is_v6() ? d.cidr6 : d.cidr4;
    for (const auto& rdata : a.rdata) {
        auto address = IpAddress::from_bytes(rdata);
        if (address && address->same_network(request_.client, prefix))
            return matched(f, d, "MX host " + host);
    }
    ++f.host;
    next_mx_host(f);
}

void SpfCheck::next_mx_host(Frame& f) {
    if (f.host < f.hosts.size()) return ask(f.hosts[f.host], address_type(), Wait::kMxHost);
    next_directive(f);
}

void SpfCheck::on_ptr_names(const dns::Answer& a) {
    // Section 5.5: a failed PTR lookup matches nothing; names past the limit are ignored.
    validation_.void_answer = a.status == Status::kNxDomain || a.status == Status::kNoData;
    if (a.status != Status::kOk) return;
    for (const auto& rdata : a.rdata) {
        if (validation_.names.size() >= options_.max_names_per_lookup) break;
        if (auto name = dns::parse_name(rdata); name && !name->empty())
            validation_.names.push_back(std::move(*name));
    }
}

void SpfCheck::on_ptr_host(const dns::Answer& a) {
    // Section 5.5: a name whose lookup fails is skipped.
    const std::string& name = validation_.names[validation_.next++];
    if (a.status != Status::kOk) return;
    for (const auto& rdata : a.rdata) {
        auto address = IpAddress::from_bytes(rdata);
        if (address && *address == request_.client) {
            validation_.validated.push_back(name);
            return;
        }
    }
}

void SpfCheck::on_explanation(const dns::Answer& a) {
    // Section 6.2: any problem with the explanation leaves the result without one.
    std::optional<std::string> text;
    if (a.status == Status::kOk && a.rdata.size() == 1) text = dns::parse_txt(a.rdata[0]);
    if (!text || !check_macros(*text, MacroUse::kExplanation)) {
        exp_stage_ = ExpStage::kOff;
        done_ = true;
        return;
    }
    exp_text_ = std::move(*text);
    exp_stage_ = ExpStage::kText;
}

void SpfCheck::ask(std::string name, dns::RecordType type, Wait wait) {
    pending_ = dns::Query{std::move(name), type};
    wait_ = wait;
}

dns::RecordType SpfCheck::address_type() const {
    return request_.client.is_v6() ? dns::RecordType::kAaaa : dns::RecordType::kA;
}

bool SpfCheck::count_void(const std::string& what) {
    if (++outcome_.void_lookups <= options_.max_void_lookups) return true;
    conclude(AuthResult::kPermError, "more than " + std::to_string(options_.max_void_lookups) +
                                         " void DNS lookups (the last for " + what + ")");
    return false;
}

void SpfCheck::next_directive(Frame& f) {
    ++f.index;
    f.counted = false;
    f.target.reset();
    f.hosts.clear();
    f.host = 0;
}

void SpfCheck::matched(Frame& f, const SpfDirective& d, std::string how) {
    std::string reason = "mechanism " + d.text + " matched in the record of " + f.domain;
    if (!how.empty()) reason += " (" + how + ")";
    end_frame(result_of(d.qualifier), std::move(reason), d.text);
}

void SpfCheck::end_frame(AuthResult result, std::string reason, std::string mechanism) {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (result == AuthResult::kNone && f.redirected) {
        return conclude(AuthResult::kPermError, "redirect= leads to " + f.domain + ": " + reason);
    }
    if (stack_.empty()) {
        outcome_.result = result;
        outcome_.reason = std::move(reason);
        outcome_.record_domain = f.domain;
        outcome_.mechanism = std::move(mechanism);
        if (result == AuthResult::kFail && f.record.exp) {
            exp_stage_ = ExpStage::kName;
            exp_spec_ = *f.record.exp;
            exp_domain_ = f.domain;
            return;
        }
        done_ = true;
        return;
    }
    Frame& parent = stack_.back();
    const SpfDirective& include = parent.record.directives[parent.index];
    switch (result) {
        case AuthResult::kPass:
            return matched(parent, include, reason);
        case AuthResult::kNone:
            return conclude(AuthResult::kPermError,
                            include.text + " in " + parent.domain + ": " + reason);
        default:
            return next_directive(parent);  // fail, softfail, neutral: no match
    }
}

void SpfCheck::conclude(AuthResult result, std::string reason) {
    if (!stack_.empty()) outcome_.record_domain = stack_.back().domain;
    outcome_.result = result;
    outcome_.reason = std::move(reason);
    outcome_.mechanism.clear();
    stack_.clear();
    pending_.reset();
    wait_ = Wait::kNone;
    exp_stage_ = ExpStage::kOff;
    done_ = true;
}

std::optional<std::string> SpfCheck::target_name(const std::string& spec,
                                                 const std::string& domain) {
    std::string name = domain;
    if (!spec.empty()) {
        if (uses_validated_name(spec) && !validation_.done) {
            validation_.wanted = true;
            return std::nullopt;
        }
        auto expanded = expand_macros(spec, MacroUse::kDomain, values_for(domain));
        if (!expanded) return std::string();
        name = std::move(*expanded);
    }
    if (!name.empty() && name.back() == '.') name.pop_back();
    // Section 7.3: a name longer than 253 octets loses labels on the left until it fits.
    while (name.size() > 253) {
        std::size_t dot = name.find('.');
        if (dot == std::string::npos) return std::string();
        name.erase(0, dot + 1);
    }
    if (!dns_name_ok(name, 1)) return std::string();
    return name;
}

std::string SpfCheck::validated_name(const std::string& domain) const {
    // Section 7.3: the domain itself, else a subdomain of it, else any validated name.
    for (const auto& name : validation_.validated)
        if (ascii_iequals(name, domain)) return name;
    for (const auto& name : validation_.validated)
        if (within(name, domain)) return name;
    if (!validation_.validated.empty()) return validation_.validated.front();
    return "unknown";
}

MacroValues SpfCheck::values_for(const std::string& domain) const {
    MacroValues v;
    v.sender = outcome_.sender;
    v.local_part = local_part_;
    v.sender_domain = sender_domain_;
    v.domain = domain;
    v.ip = request_.client;
    v.helo = request_.helo;
    v.validated = validated_name(domain);
    v.receiver = request_.receiver;
    v.now = request_.now;
    return v;
}

}  // namespace tern::mailauth
