// libFuzzer target for the tag=value list parser and the DKIM-Signature parser (untrusted header
// field values). Besides "no crash", it checks: tag spans lie inside the text and hold their
// trimmed value, names are unique, an accepted signature satisfies what RFC 6376 section 6.1.1
// requires, and removing b= leaves a field whose b= is empty.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/text.h"
#include "fuzz_check.h"
#include "mailauth/dkim_signature.h"
#include "mailauth/header_hash.h"
#include "mailauth/tag_list.h"

namespace tern::mailauth {
namespace {

using fuzz::check;

void fuzz_tag_list(std::string_view text) {
    auto tags = parse_tag_list(text);
    if (!tags) return;
    for (std::size_t i = 0; i < tags->size(); ++i) {
        const Tag& t = (*tags)[i];
        check(!t.name.empty());
        check(t.raw_begin <= t.raw_end && t.raw_end <= text.size());
        check(t.raw_end == text.size() || text[t.raw_end] == ';');
        std::string_view raw = text.substr(t.raw_begin, t.raw_end - t.raw_begin);
        check(raw.find(t.value) != std::string_view::npos);
        for (std::size_t j = 0; j < i; ++j)
            check((*tags)[j].name != t.name);
    }
}

void fuzz_signature(std::string_view value) {
    ParsedSignature parsed = parse_dkim_signature(value);
    if (parsed.problem) {
        check(!parsed.problem->reason.empty());
        check(parsed.problem->result == AuthResult::kNeutral ||
              parsed.problem->result == AuthResult::kFail);
        return;
    }
    const DkimSignature& s = parsed.signature;
    check(is_dns_name(s.domain) && is_dns_name(s.selector));
    bool from = false;
    for (const std::string& name : s.signed_fields)
        from = from || ascii_iequals(name, "from");
    check(from);
    auto at = s.identity.rfind('@');
    check(at != std::string::npos);
    check(!s.signature.empty());
    if (s.timestamp && s.expiration) check(*s.expiration > *s.timestamp);

    std::string field = "DKIM-Signature:" + std::string(value);
    std::string blank = without_signature_value(field);
    check(blank.size() <= field.size());
    // Parsed as without_signature_value parses it: a final CRLF ends the field.
    std::string_view rest = std::string_view(blank).substr(15);
    if (rest.ends_with("\r\n")) rest.remove_suffix(2);
    auto again = parse_tag_list(rest);
    check(again.has_value());
    const Tag* b = find_tag(*again, "b");
    check(b != nullptr && b->value.empty() && b->raw_begin == b->raw_end);
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    tern::mailauth::fuzz_tag_list(input);
    tern::mailauth::fuzz_signature(input);
    return 0;
}
