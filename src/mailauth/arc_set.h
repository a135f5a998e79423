// ARC sets (RFC 8617 section 4.1): the ARC-Authentication-Results, ARC-Message-Signature and
// ARC-Seal fields of a message grouped by instance, with the structural checks of section 5.2.
// Input is untrusted header text.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim_signature.h"

namespace tern::mailauth {

enum class ArcFieldKind { kAuthResults, kMessageSignature, kSeal };

// The kind of an ARC field by its name (case-insensitive); nullopt for any other field.
std::optional<ArcFieldKind> arc_field_kind(std::string_view name);

// "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal".
std::string_view arc_field_name(ArcFieldKind kind);

struct ArcAuthResults {
    unsigned instance = 0;
    std::string_view payload;  // "authserv-id; results", trimmed, folds as written
};

// The value of an ARC-Authentication-Results field: "i=" 1 to 50, ";", then the
// Authentication-Results payload (RFC 8617 section 4.1.1). Fails, with the reason, when the
// value does not start with the instance.
[[nodiscard]] std::expected<ArcAuthResults, std::string> parse_arc_authentication_results(
    std::string_view value);

// One ARC set, its three fields read.
struct ArcSet {
    unsigned instance = 0;
    std::size_t results_field = 0;    // index of the AAR among the header fields
    std::size_t signature_field = 0;  // index of the AMS
    std::size_t seal_field = 0;       // index of the AS
    std::string results;              // the AAR payload, unfolded
    ParsedSignature message_signature;
    ParsedSignature seal;
};

// The ARC sets of a message.
struct ArcChain {
    std::vector<ArcSet> sets;         // when the structure is sound: sets[k] is instance k + 1
    std::size_t fields = 0;           // ARC fields found
    unsigned highest_instance = 0;    // the greatest i= read from any ARC field (0: none)
    bool newest_seal_failed = false;  // the AS of the highest instance says cv=fail
    std::string problem;              // why the structure is broken; "" when sound

    bool empty() const { return fields == 0; }
};

// Collects the ARC fields among `fields` (raw, top first) and checks RFC 8617 section 5.2 steps
// 1 to 3: at most `max_instances` sets, the newest seal not cv=fail, exactly one field of each
// kind in each set, instances 1 to N without gaps, cv=none on instance 1 and cv=pass on the
// others. Syntax errors of a signature other than in i= and cv= are left in its ParsedSignature
// (they fail that signature's validation, not the structure).
ArcChain parse_arc_chain(std::span<const std::string> fields,
                         unsigned max_instances = kMaxArcInstance);

}  // namespace tern::mailauth
