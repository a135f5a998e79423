// libFuzzer target for SPF macro-strings (RFC 7208 section 7): arbitrary bytes through
// check_macros, expand_macros, ends_with_macro, uses_validated_name and check_domain_spec.
//
// Input layout: byte 0 picks the client family and the sender, the rest is the macro text.
// Besides "no crash", it checks: expansion succeeds exactly when the syntax check does, a
// domain macro-string is also a valid explain-string, a domain-spec is a macro-string, and the
// expansion stays within what the values can produce.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "mailauth/spf_macro.h"
#include "mailauth/spf_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::mailauth;
    using tern::fuzz::check;
    if (size < 1) return 0;
    std::uint8_t mode = data[0];
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

    MacroValues v;
    v.sender = mode & 0x02 ? "strong-bad@email.example.com" : "a.b-c+d=e,f/g_h@x.example";
    v.local_part = v.sender.substr(0, v.sender.find('@'));
    v.sender_domain = v.sender.substr(v.sender.find('@') + 1);
    v.domain = "email.example.com";
    v.ip = *IpAddress::parse(mode & 0x01 ? "2001:db8::cb01" : "192.0.2.3");
    v.helo = "mx.example.org";
    v.validated = "unknown";
    v.receiver = "receiver.example";
    v.now = 1234567890;

    for (MacroUse use : {MacroUse::kDomain, MacroUse::kExplanation}) {
        bool valid = check_macros(text, use).has_value();
        auto expanded = expand_macros(text, use, v);
        check(valid == expanded.has_value());
        if (!expanded) continue;
        // The longest value (the %{i} of IPv6, 63 octets) URL-escaped triples in size.
        check(expanded->size() <= text.size() * 3 * 64);
        if (use == MacroUse::kDomain) check(check_macros(text, MacroUse::kExplanation).has_value());
    }
    bool ends = ends_with_macro(text);
    (void)ends;
    (void)uses_validated_name(text);
    if (check_domain_spec(text)) check(check_macros(text, MacroUse::kDomain).has_value());
    return 0;
}
