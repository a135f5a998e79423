// ContentRules: header and body rules in Postfix's header_checks/body_checks syntax (a regular
// expression a line, an action for the lines it matches), parsed from an operator's file.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "smtp/replies.h"

namespace tern::policy {

enum class RuleTarget { kHeader, kBody };

enum class RuleAction {
    kReject,   // refuse the message: 550 5.7.1 (or the rule's own 5xx reply)
    kDefer,    // refuse it for now: 451 4.7.1 (or the rule's own 4xx reply)
    kWarn,     // log the match and go on
    kHold,     // accept it and keep it on hold in the queue
    kDiscard,  // accept it and drop it
    kIgnore,   // header rules: remove the matched field
    kPrepend,  // header rules: insert the rule's field before the matched one
    kReplace,  // header rules: put the rule's field in place of the matched one
    kDunno,    // stop looking at this line (OK and DUNNO)
    kScore,    // Tern's own: add the rule's points to the message's score ("SCORE 2.5 text")
};
std::string_view action_name(RuleAction action);

// One rule as written: where (for logs), what it does, the text given with the action.
struct Rule {
    std::string where;  // "file:line"
    RuleAction action = RuleAction::kDunno;
    std::string text;                  // the action's text (a reply text, a header field)
    std::optional<smtp::Reply> reply;  // kReject / kDefer: the reply to send
    double points = 0;                 // kScore: the points (may be negative)
};

class RuleSet {
  public:
    RuleSet();
    RuleSet(RuleSet&&) noexcept;
    RuleSet& operator=(RuleSet&&) noexcept;
    ~RuleSet();

    // Parses rules: `/pattern/flags ACTION text` a line (any punctuation may delimit the
    // pattern; `!/pattern/` matches lines it does not match), `if /pattern/` ... `endif`
    // blocks, `#` comments, and lines that start with white space continuing the line before.
    // Flags: i (case-sensitive: patterns ignore case unless given), m, s, x as in Perl.
    // Errors say "name:line: what is wrong".
    static Result<RuleSet> parse(std::string_view text, std::string_view name, RuleTarget target);
    // Reads and parses a file (at most 4 MiB).
    static Result<RuleSet> load(const std::string& path, RuleTarget target);

    // The first rule whose pattern (and every enclosing `if`) matches `line`, or nullptr.
    // `too_complex` is set when a pattern gave up on the line (Boost.Regex's bound on
    // backtracking); that pattern then counts as not matching.
    const Rule* match(std::string_view line, bool* too_complex = nullptr) const;

    std::size_t size() const;  // rules, not counting if/endif
    bool empty() const { return size() == 0; }

  private:
    struct Entries;
    std::unique_ptr<Entries> entries_;
};

}  // namespace tern::policy
