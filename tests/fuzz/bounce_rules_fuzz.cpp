// libFuzzer target for the bounce classifier (src/bounce/): the operator's rules file (TOML) and
// the replies of remote servers it is applied to. The input is split at the first NUL: rules
// before, a reply after. Besides "no crash": a parsed rule has a category and a condition, and
// classifying gives a category for any reply, with the built-in rules as with the file's.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bounce/classifier.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto nul = bytes.find('\0');
    std::string_view rules_text = bytes.substr(0, nul);
    std::string_view reply = nul == std::string_view::npos ? bytes : bytes.substr(nul + 1);
    static auto builtin = tern::bounce::BounceClassifier::create({});
    check(builtin.has_value());
    check(!(*builtin)->classify(reply).empty());
    auto parts = tern::bounce::split_reply(reply);
    check(parts.text.size() <= 1000);
    check(parts.code.empty() || parts.code.size() == 3);
    auto rules = tern::bounce::parse_bounce_rules(rules_text, "fuzz");
    if (!rules) {
        check(!rules.error().message.empty());
        return 0;
    }
    for (const auto& r : *rules)
        check(!r.category.empty() && (!r.code.empty() || !r.status.empty() || !r.text.empty()));
    auto classifier = tern::bounce::BounceClassifier::create(std::move(*rules));
    if (classifier) check(!(*classifier)->classify(reply).empty());
    return 0;
}
