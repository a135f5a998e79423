// SpfCheck: the check_host() function of RFC 7208 (SPF) as a sans-I/O evaluator. It names the
// DNS questions it needs (LookupDriven: next_query/feed, driven by run_lookups) and ends with a
// result, the reason for it and, on fail, the domain's explanation. Implements sections 2.3-2.6,
// 4 (record lookup, selection, evaluation, limits), 5 (mechanisms), 6 (modifiers), 7 (macros).
// Everything it is fed (records, names, addresses) is untrusted; the work it does is bounded by
// SpfOptions, and no input makes it loop, crash or return anything but one of the seven results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dns/answer.h"
#include "mailauth/auth_result.h"
#include "mailauth/spf_address.h"
#include "mailauth/spf_macro.h"
#include "mailauth/spf_record.h"

namespace tern::mailauth {

// Which identity is checked (section 2.3, 2.4).
enum class SpfIdentity { kMailFrom, kHelo };

// The limits of one check (section 4.6.4). The time budget (the RFC asks for at least 20
// seconds) is the driver's: it calls SpfCheck::time_out() when it runs out.
struct SpfOptions {
    unsigned max_dns_terms = 10;           // include, a, mx, ptr, exists and redirect evaluated
    unsigned max_void_lookups = 2;         // of those, lookups answered NXDOMAIN or no records
    unsigned max_names_per_lookup = 10;    // MX names (more: permerror), PTR names (more ignored)
    std::size_t max_record_length = 4096;  // a longer SPF record is a permerror
};

struct SpfRequest {
    IpAddress client;    // the SMTP client (IPv4-mapped addresses count as IPv4)
    std::string helo;    // the HELO/EHLO name as given
    std::string sender;  // the MAIL FROM address without <>; "" for the null path
    SpfIdentity identity = SpfIdentity::kMailFrom;  // kMailFrom with "" checks the HELO name
    std::string receiver = "unknown";               // this host's name: the %{r} macro
    std::int64_t now = 0;                           // unix seconds: the %{t} macro
};

struct SpfOutcome {
    AuthResult result = AuthResult::kNone;  // none/neutral/pass/fail/softfail/temp/permerror
    SpfIdentity identity = SpfIdentity::kMailFrom;  // the identity actually checked
    std::string sender;         // <sender> as checked: "postmaster@HELO" for the HELO identity
    std::string domain;         // the identity's domain: where the evaluation started
    std::string mechanism;      // the directive that decided ("-all", "include:x"), "" if none
    std::string record_domain;  // the domain whose record held it (after redirect=)
    std::string reason;         // why, in words: the match, the default, or the error
    std::optional<std::string> explanation;  // fail only: the exp= text, macro-expanded
    unsigned dns_terms = 0;                  // DNS-querying terms evaluated (limit max_dns_terms)
    unsigned void_lookups = 0;               // void lookups counted (limit max_void_lookups)
};

class SpfCheck {
  public:
    explicit SpfCheck(SpfRequest request, SpfOptions options = {});

    // The next DNS question, or nullopt when the outcome is ready. The same question is named
    // again until feed() answers it.
    std::optional<dns::Query> next_query() const;

    // The answer to the question next_query() named.
    void feed(const dns::Answer& answer);

    // The driver's time budget ran out: the outcome becomes temperror (section 4.6.4).
    void time_out();

    bool done() const { return done_; }
    const SpfOutcome& outcome() const { return outcome_; }
    const SpfRequest& request() const { return request_; }

  private:
    // One check_host() in progress: the top one, or one opened by include:.
    struct Frame {
        std::string domain;
        SpfRecord record{};
        bool fetched = false;     // record holds the domain's record
        bool include = false;     // opened by include: (its result says match or not)
        bool redirected = false;  // reached by redirect= (none becomes permerror)
        std::size_t index = 0;    // the directive being evaluated
        // The directive being evaluated:
        bool counted = false;                 // counted against max_dns_terms
        std::optional<std::string> target{};  // its expanded target name
        std::vector<std::string> hosts{};     // mx: the MX names
        std::size_t host = 0;                 // mx: the next MX name to look up
    };

    // The validated names of the client (section 5.5), found once for ptr and %{p}.
    struct Validation {
        bool wanted = false;
        bool started = false;
        bool done = false;
        bool void_answer = false;  // the PTR lookup found no name
        std::vector<std::string> names;
        std::size_t next = 0;
        std::vector<std::string> validated;
    };

    // What the pending question is for.
    enum class Wait {
        kNone,
        kRecord,
        kAddress,
        kExists,
        kMx,
        kMxHost,
        kPtrNames,
        kPtrHost,
        kExplanation
    };

    // What the explanation stage (section 6.2) is doing.
    enum class ExpStage { kOff, kName, kText };

    void run();
    void step_frame(Frame& f);
    void step_directive(Frame& f, const SpfDirective& d);
    void step_validation();
    void step_explanation();
    void on_record(Frame& f, const dns::Answer& a);
    void on_address(Frame& f, const dns::Answer& a, bool exists);
    void on_mx(Frame& f, const dns::Answer& a);
    void on_mx_host(Frame& f, const dns::Answer& a);
    void next_mx_host(Frame& f);
    void on_ptr_names(const dns::Answer& a);
    void on_ptr_host(const dns::Answer& a);
    void on_explanation(const dns::Answer& a);

    void ask(std::string name, dns::RecordType type, Wait wait);
    dns::RecordType address_type() const;
    bool count_void(const std::string& what);
    void next_directive(Frame& f);
    void matched(Frame& f, const SpfDirective& d, std::string how);
    void end_frame(AuthResult result, std::string reason, std::string mechanism = {});
    void conclude(AuthResult result, std::string reason);

    // The target name of `spec` for a frame at `domain` (spec "" = the domain itself): nullopt
    // when %{p} needs the validated names first; "" when the expansion is no valid DNS name.
    std::optional<std::string> target_name(const std::string& spec, const std::string& domain);
    std::string validated_name(const std::string& domain) const;
    MacroValues values_for(const std::string& domain) const;

    SpfRequest request_;
    SpfOptions options_;
    SpfOutcome outcome_;
    bool done_ = false;
    std::string local_part_;     // %{l}
    std::string sender_domain_;  // %{o}
    std::vector<Frame> stack_;
    Validation validation_;
    std::optional<dns::Query> pending_;
    Wait wait_ = Wait::kNone;
    ExpStage exp_stage_ = ExpStage::kOff;
    std::string exp_spec_;    // exp= of the record that failed
    std::string exp_domain_;  // that record's domain (%{d} in the explanation)
    std::string exp_text_;    // the fetched explanation, before expansion
};

// True when `name` (without a trailing dot) can be asked of the DNS: labels of 1-63 octets,
// 253 octets in all. For an identity's domain (section 4.3) also two labels or more, of
// letters, digits, '-' and '_' only.
bool valid_spf_domain(std::string_view name, bool identity);

}  // namespace tern::mailauth
