// BounceClassifier: the category of an SMTP reply (a remote server's, or Tern's own verdict) —
// invalid_recipient, mailbox_full, reputation_block, rate_limited... — by rules on the reply
// code, the enhanced status code and the text: the operator's rules file first, then Tern's
// built-in rules, the first that matches wins (docs/bounces.md). A reputation block says
// nothing about the address; only the categories the operator lists make an address dead.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace tern::bounce {

// One rule: every condition given must hold.
struct BounceRule {
    std::string where;     // "file:line" for messages
    std::string category;  // [a-z0-9_], 1..64 characters
    std::string code;      // a prefix of the reply code ("5", "55", "550"); empty: any
    // The enhanced status code, component by component ("5.7.1", "X.1.1" for either class,
    // "5.7" for the class and subject only); empty: any.
    std::string status;
    std::string text;  // a Perl regular expression searched case-insensitively; empty: any
};

// True when `name` may name a category: 1 to 64 of a-z, 0-9 and _.
bool valid_category(std::string_view name);

// The parts of a reply the rules look at.
struct ReplyParts {
    std::string_view code;  // three digits, or empty
    std::string status;     // "x.y.z" after the code, or qmail's "(#x.y.z)" at the end; or empty
    std::string text;       // the text of every line, joined by spaces
};
ReplyParts split_reply(std::string_view reply);

// The rules of a TOML file's text: [[rule]] tables with category and any of code, status,
// text. An error names the rule and what is wrong with it.
Result<std::vector<BounceRule>> parse_bounce_rules(std::string_view text, std::string_view name);
// Tern's built-in rules, as TOML in the same format (docs/bounces.md shows them).
std::string_view builtin_bounce_rules();

class BounceClassifier {
  public:
    // The built-in rules after `operator_rules`; an error when a rule's text does not compile.
    static Result<std::unique_ptr<BounceClassifier>> create(std::vector<BounceRule> operator_rules);
    // Reads the operator's rules from `path` (empty: none) and creates the classifier.
    static Result<std::unique_ptr<BounceClassifier>> load(const std::string& path);
    ~BounceClassifier();

    // The category of `reply`: the first rule that matches, else "transient" for a 4xx reply and
    // "uncategorized" for any other. Thread-safe; the text looked at is bounded (512 octets).
    std::string classify(std::string_view reply) const;

  private:
    struct Compiled;
    BounceClassifier() = default;
    std::vector<Compiled> rules_;
};

}  // namespace tern::bounce
