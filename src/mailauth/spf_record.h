// SpfRecord: an SPF version 1 record parsed whole (RFC 7208 sections 4.5, 4.6, 5, 6 and the
// ABNF of section 12), so that a syntax error anywhere is found before any term is evaluated.
// Input comes from DNS TXT records (untrusted); every error is a reason for permerror.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "mailauth/spf_address.h"

namespace tern::mailauth {

enum class SpfQualifier { kPass, kFail, kSoftFail, kNeutral };  // + - ~ ?

enum class SpfMechanism { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

struct SpfDirective {
    SpfQualifier qualifier = SpfQualifier::kPass;
    SpfMechanism mechanism = SpfMechanism::kAll;
    std::string domain_spec;  // include, a, mx, ptr, exists; "" = the current <domain>
    IpAddress network;        // ip4, ip6
    unsigned cidr4 = 32;      // a, mx, ip4
    unsigned cidr6 = 128;     // a, mx, ip6
    std::string text;         // the term as written, for the reason of a result

    // True for the mechanisms counted against the limit of DNS lookups (section 4.6.4).
    bool needs_dns() const;
};

struct SpfRecord {
    std::vector<SpfDirective> directives;  // in the order written
    std::optional<std::string> redirect;   // redirect= domain-spec
    std::optional<std::string> exp;        // exp= domain-spec
};

// True when a TXT string is an SPF version 1 record: "v=spf1" in any case, then a space or the
// end (section 4.5: "v=spf10" is not one).
bool is_spf_record(std::string_view txt);

// Parses a record for which is_spf_record() holds; kInvalid with the reason otherwise.
[[nodiscard]] Result<SpfRecord> parse_spf_record(std::string_view txt);

// Checks a domain-spec: a macro-string that ends in "." toplabel ["."] or in a macro-expand
// (section 7.1); the letters c, r and t are refused there.
[[nodiscard]] Result<void> check_domain_spec(std::string_view spec);

}  // namespace tern::mailauth
