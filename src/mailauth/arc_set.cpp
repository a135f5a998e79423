// ARC field recognition, the AAR instance prefix and the grouping of ARC fields into sets,
// RFC 8617 sections 4.1, 4.2.1 and 5.2 (steps 1 to 3).
#include "mailauth/arc_set.h"

#include <array>

#include "base/text.h"
#include "mailauth/canonical.h"
#include "mailauth/tag_list.h"

namespace tern::mailauth {
namespace {

constexpr std::array<std::string_view, 3> kNames{"ARC-Authentication-Results",
                                                 "ARC-Message-Signature", "ARC-Seal"};

std::size_t index_of(ArcFieldKind kind) {
    return static_cast<std::size_t>(kind);
}

bool is_fws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Moves `i` past white space, folds and comments (CFWS, with nested comments).
void skip_cfws(std::string_view text, std::size_t& i) {
    int depth = 0;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (c == '(') {
            ++depth;
        } else if (c == ')' && depth > 0) {
            --depth;
        } else if (c == '\\' && depth > 0 && i + 1 < text.size()) {
            ++i;
        } else if (depth == 0 && !is_fws(c)) {
            return;
        }
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_fws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_fws(s.back()))
        s.remove_suffix(1);
    return s;
}

std::string unfold(std::string_view text) {
    std::string out;
    for (char c : text)
        if (c != '\r' && c != '\n') out += c;
    return out;
}

// What one ARC field holds at its instance; the signatures stay parsed.
struct Slot {
    std::array<std::size_t, 3> count{};  // fields of each kind
    std::array<std::size_t, 3> field{};  // index of the first of each kind
    std::string results;
    ParsedSignature message_signature;
    ParsedSignature seal;
};

std::string at(unsigned instance) {
    return "i=" + std::to_string(instance) + ": ";
}

// RFC 8617 section 5.2 step 3 for one instance; "" when the set is sound.
std::string check_set(const Slot& slot, unsigned instance) {
    if (slot.count == std::array<std::size_t, 3>{})
        return "ARC set i=" + std::to_string(instance) + " is missing (instances run from 1)";
    for (std::size_t k = 0; k < 3; ++k) {
        if (slot.count[k] == 0) return at(instance) + "no " + std::string(kNames[k]) + " field";
        if (slot.count[k] > 1)
            return at(instance) + std::to_string(slot.count[k]) + " " + std::string(kNames[k]) +
                   " fields";
    }
    const std::string& cv = slot.seal.signature.chain_validation;
    if (cv != "none" && cv != "pass" && cv != "fail")
        return at(instance) + "ARC-Seal: " + slot.seal.problem->reason;
    std::string_view wanted = instance == 1 ? "none" : "pass";
    if (cv != wanted)
        return at(instance) + "the ARC-Seal says cv=" + cv + ", not " + std::string(wanted);
    return "";
}

}  // namespace

std::optional<ArcFieldKind> arc_field_kind(std::string_view name) {
    for (std::size_t k = 0; k < kNames.size(); ++k)
        if (ascii_iequals(name, kNames[k])) return static_cast<ArcFieldKind>(k);
    return std::nullopt;
}

std::string_view arc_field_name(ArcFieldKind kind) {
    return kNames[index_of(kind)];
}

std::expected<ArcAuthResults, std::string> parse_arc_authentication_results(
    std::string_view value) {
    std::size_t i = 0;
    skip_cfws(value, i);
    if (i == value.size() || (value[i] != 'i' && value[i] != 'I'))
        return std::unexpected("does not start with i=");
    ++i;
    skip_cfws(value, i);
    if (i == value.size() || value[i] != '=') return std::unexpected("does not start with i=");
    ++i;
    skip_cfws(value, i);
    std::size_t digits = i;
    while (i < value.size() && value[i] >= '0' && value[i] <= '9')
        ++i;
    auto instance = parse_decimal(value.substr(digits, i - digits), 2);
    if (!instance || *instance < 1 || *instance > kMaxArcInstance)
        return std::unexpected("i= is not an instance from 1 to 50");
    skip_cfws(value, i);
    if (i == value.size() || value[i] != ';') return std::unexpected("no ';' after i=");
    return ArcAuthResults{static_cast<unsigned>(*instance), trim(value.substr(i + 1))};
}

ArcChain parse_arc_chain(std::span<const std::string> fields, unsigned max_instances) {
    ArcChain chain;
    std::vector<Slot> slots(kMaxArcInstance + 1);
    std::string unreadable;  // the first field whose instance could not be read
    for (std::size_t f = 0; f < fields.size(); ++f) {
        auto kind = arc_field_kind(field_name(fields[f]));
        if (!kind) continue;
        ++chain.fields;
        std::string_view value = field_value(fields[f]);
        unsigned instance = 0;
        ParsedSignature parsed;
        std::string results;
        if (*kind == ArcFieldKind::kAuthResults) {
            auto aar = parse_arc_authentication_results(value);
            if (aar) {
                instance = aar->instance;
                results = unfold(aar->payload);
            } else if (unreadable.empty()) {
                unreadable = "an ARC-Authentication-Results field " + aar.error();
            }
        } else {
            parsed = parse_dkim_signature(value, *kind == ArcFieldKind::kSeal
                                                     ? SignatureField::kArcSeal
                                                     : SignatureField::kArcMessage);
            instance = parsed.signature.instance;
            if (instance == 0 && unreadable.empty())
                unreadable = "an " + std::string(arc_field_name(*kind)) +
                             " field has no usable i=: " + parsed.problem->reason;
        }
        if (instance == 0) continue;
        chain.highest_instance = std::max(chain.highest_instance, instance);
        Slot& slot = slots[instance];
        std::size_t k = index_of(*kind);
        if (slot.count[k]++ > 0) continue;
        slot.field[k] = f;
        if (*kind == ArcFieldKind::kAuthResults) slot.results = std::move(results);
        if (*kind == ArcFieldKind::kMessageSignature) slot.message_signature = std::move(parsed);
        if (*kind == ArcFieldKind::kSeal) slot.seal = std::move(parsed);
    }
    if (chain.empty()) return chain;

    unsigned n = chain.highest_instance;
    const Slot& newest = slots[n];
    chain.newest_seal_failed = newest.count[index_of(ArcFieldKind::kSeal)] > 0 &&
                               newest.seal.signature.chain_validation == "fail";
    if (n > max_instances) {
        chain.problem =
            std::to_string(n) + " ARC sets, over the limit of " + std::to_string(max_instances);
    } else if (chain.newest_seal_failed) {
        chain.problem = "the newest ARC-Seal (i=" + std::to_string(n) + ") says cv=fail";
    } else if (!unreadable.empty()) {
        chain.problem = std::move(unreadable);
    }
    for (unsigned i = 1; i <= n && chain.problem.empty(); ++i)
        chain.problem = check_set(slots[i], i);
    if (!chain.problem.empty()) return chain;

    for (unsigned i = 1; i <= n; ++i) {
        Slot& slot = slots[i];
        chain.sets.push_back(ArcSet{i, slot.field[0], slot.field[1], slot.field[2],
                                    std::move(slot.results), std::move(slot.message_signature),
                                    std::move(slot.seal)});
    }
    return chain;
}

}  // namespace tern::mailauth
