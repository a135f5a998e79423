// The Public Suffix List's matching algorithm (publicsuffix.org/list, "Formal algorithm") over
// hash sets of rules; a lookup costs one probe per label of the name.
#include "mailauth/public_suffix_list.h"

#include <fstream>
#include <sstream>

#include "base/text.h"
#include "mailauth/domain_name.h"

namespace tern::mailauth {
namespace {

// `rule` with each label but a leading "*" in A-label form; empty when a label is unusable.
std::string rule_to_a_label(std::string_view rule) {
    bool wildcard = rule.starts_with("*.");
    if (wildcard) rule.remove_prefix(2);
    auto name = to_a_label(rule);
    if (!name) return {};
    return wildcard ? "*." + *name : *name;
}

// `name` without its first label; empty for a name of one label.
std::string_view parent(std::string_view name) {
    std::size_t dot = name.find('.');
    return dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
}

}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
    PublicSuffixList list;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        std::string_view line = text.substr(start, end - start);
        start = end == std::string_view::npos ? text.size() : end + 1;
        // The rule is the line up to the first blank; comments start with "//".
        std::size_t blank = line.find_first_of(" \t\r");
        line = line.substr(0, blank);
        if (line.empty() || line.starts_with("//")) continue;
        bool exception = line.starts_with('!');
        if (exception) line.remove_prefix(1);
        std::string rule = rule_to_a_label(line);
        if (rule.empty()) continue;
        if (exception) {
            list.exceptions_.insert(std::move(rule));
        } else if (rule.starts_with("*.")) {
            list.wildcards_.insert(rule.substr(2));
        } else {
            list.rules_.insert(std::move(rule));
        }
    }
    return list;
}

Result<PublicSuffixList> PublicSuffixList::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(ErrorCode::kNotFound, "cannot read the public suffix list " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail(ErrorCode::kIo, "cannot read the public suffix list " + path);
    return parse(text.str());
}

std::string_view PublicSuffixList::public_suffix(std::string_view domain) const {
    // An exception rule prevails over every other: the suffix is the rule less its first label.
    for (std::string_view s = domain; !s.empty(); s = parent(s))
        if (exceptions_.contains(std::string(s))) return parent(s);
    // Otherwise the longest match; names are tried from the longest, so the first match wins.
    for (std::string_view s = domain; !s.empty(); s = parent(s)) {
        if (rules_.contains(std::string(s))) return s;
        std::string_view rest = parent(s);
        if (!rest.empty() && wildcards_.contains(std::string(rest))) return s;
    }
    return last_labels(domain, 1);  // the implicit rule "*"
}

std::string_view PublicSuffixList::organizational_domain(std::string_view domain) const {
    std::string_view suffix = public_suffix(domain);
    if (suffix.size() >= domain.size()) return domain;
    return last_labels(domain, label_count(suffix) + 1);
}

}  // namespace tern::mailauth
