// DmarcRecord: a DMARC Policy Record (DMARCbis section 4.7, RFC 7489 section 6.3) parsed from the
// text of one DNS TXT record. Input is untrusted DNS data: every octet sequence gives a result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::mailauth {

// The Domain Owner Assessment Policy (p=, sp=, np=), in order of strictness.
enum class DmarcPolicy { kNone, kQuarantine, kReject };

// Identifier alignment mode (adkim=, aspf=).
enum class Alignment { kRelaxed, kStrict };

// psd=: whether the record is published for a Public Suffix Domain.
enum class PsdFlag { kUnknown, kYes, kNo };  // u (the default), y, n

// A record that began with v=DMARC1. Tags with a syntax error keep their default and are named
// in `errors`, as section 4.8 requires ("discarded in favor of default values"); unknown tags
// are ignored; a tag given twice keeps its first value.
struct DmarcRecord {
    std::optional<DmarcPolicy> p;   // absent or invalid: nullopt
    std::optional<DmarcPolicy> sp;  // subdomains that exist
    std::optional<DmarcPolicy> np;  // subdomains that do not exist (DMARCbis, RFC 9091)
    bool p_invalid = false;         // p= present with a value that is not a policy
    bool sp_invalid = false;
    bool np_invalid = false;
    PsdFlag psd = PsdFlag::kUnknown;
    bool testing = false;    // t=y (DMARCbis); also pct=0 when t= is absent
    std::optional<int> pct;  // RFC 7489's sampling rate 0..100, kept for reports
    Alignment adkim = Alignment::kRelaxed;
    Alignment aspf = Alignment::kRelaxed;
    std::vector<std::string> rua;  // syntactically valid URIs, without an obsolete "!size"
    std::vector<std::string> ruf;
    std::string fo = "0";             // failure reporting options, as published when valid
    std::string rf;                   // RFC 7489 report format, tolerated and kept as published
    std::string ri;                   // RFC 7489 report interval, tolerated and kept
    std::vector<std::string> errors;  // one line per tag discarded for its syntax

    // True when p= is valid or absent and sp= and np= are valid where present.
    bool policy_tags_valid() const;

    // True when the record gives a policy at all: its policy tags are valid or, failing that, it
    // has a valid rua= URI (section 4.10.1: act as if p=none). False: apply no DMARC processing.
    bool usable() const;

    // The policy for an Author Domain that is the record's own domain, an existing subdomain of
    // it, or a subdomain that does not exist (section 4.10.1): p=; sp= else p=; np= else sp= else
    // p=. None where the tags fall back to nothing, and for every scope when the policy tags are
    // invalid but rua= makes the record usable.
    enum class Scope { kDomain, kSubdomain, kNonExistentSubdomain };
    DmarcPolicy policy_for(Scope scope) const;
};

// Parses the concatenated strings of one TXT record. nullopt when the record is not a DMARC
// record at all: its first tag is not v=DMARC1 (the value is case-sensitive).
std::optional<DmarcRecord> parse_dmarc_record(std::string_view text);

// "none", "quarantine", "reject".
std::string_view policy_name(DmarcPolicy policy);

}  // namespace tern::mailauth
