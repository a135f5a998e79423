// libFuzzer target for header and body rule files (Postfix's header_checks syntax): parsed as
// either kind; when one parses, every line of the input is judged against it. Besides "no crash"
// and "no hang": a matched rule has a place and, for REJECT and DEFER, a reply of its class.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "policy/content_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::policy;
    using tern::fuzz::check;
    if (size > 4096) return 0;  // patterns compile per input; keep each run short
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (auto target : {RuleTarget::kHeader, RuleTarget::kBody}) {
        auto rules = RuleSet::parse(text, "fuzz", target);
        if (!rules) {
            check(rules.error().message.starts_with("fuzz:"));
            continue;
        }
        std::string_view rest = text;
        while (!rest.empty()) {
            auto eol = rest.find('\n');
            std::string_view line = rest.substr(0, eol);
            rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
            bool too_complex = false;
            if (const Rule* r = rules->match(line, &too_complex)) {
                check(r->where.starts_with("fuzz:"));
                if (r->action == RuleAction::kReject)
                    check(r->reply && r->reply->code >= 500 && r->reply->code < 600);
                if (r->action == RuleAction::kDefer)
                    check(r->reply && r->reply->code >= 400 && r->reply->code < 500);
                check(target == RuleTarget::kHeader ||
                      (r->action != RuleAction::kIgnore && r->action != RuleAction::kPrepend &&
                       r->action != RuleAction::kReplace));
            }
        }
    }
    return 0;
}
