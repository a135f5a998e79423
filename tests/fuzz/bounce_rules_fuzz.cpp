// libFuzzer target for the bounce classifier (src/bounce/): the operator's rules file (TOML) and
// the replies of remote servers it is applied to. The input is split at the first NUL: rules
// before, a reply after. Besides "no crash": a parsed rule has a category and a condition;
// classifying gives a category name (a-z, 0-9, _) for any reply, the file's own or a built-in
// one; a reply split has a code of three digits or none, and its text is bounded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
    check(tern::bounce::valid_category((*builtin)->classify(reply)));
    auto parts = tern::bounce::split_reply(reply);
    check(parts.text.size() <= 512);
    check(parts.status.empty() || parts.status.size() >= 5);
    check(parts.code.empty() || parts.code.size() == 3);
    auto rules = tern::bounce::parse_bounce_rules(rules_text, "fuzz");
    if (!rules) {
        check(!rules.error().message.empty());
        return 0;
    }
    for (const auto& r : *rules)
        check(!r.category.empty() && (!r.code.empty() || !r.status.empty() || !r.text.empty()));
    std::vector<std::string> own;
    for (const auto& r : *rules)
        own.push_back(r.category);
    auto classifier = tern::bounce::BounceClassifier::create(std::move(*rules));
    if (classifier) {
        std::string c = (*classifier)->classify(reply);
        check(tern::bounce::valid_category(c));
        // Not one of the file's categories: the built-in rules decided, as without the file.
        if (std::find(own.begin(), own.end(), c) == own.end())
            check(c == (*builtin)->classify(reply));
    }
    return 0;
}
