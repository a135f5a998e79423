// ContentRules: the parser of Postfix-style header/body rule files and the matcher, on
// Boost.Regex's Perl syntax (no recursion on the stack; a bounded number of matching steps, so a
// hostile line against a careless pattern costs milliseconds, not minutes).
//
// Boost.Regex counts the states a match may visit; its default bound (100 million) allows
// seconds of work on one line. A million is ample for real header_checks patterns.
#define BOOST_REGEX_MAX_STATE_COUNT 1000000
#include "policy/content_rules.h"

#include <boost/regex.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/text.h"

namespace tern::policy {
namespace {

constexpr std::size_t kMaxFileOctets = 4 * 1024 * 1024;

struct Keyword {
    std::string_view name;
    RuleAction action;
};
constexpr Keyword kKeywords[] = {
    {"REJECT", RuleAction::kReject},   {"DEFER", RuleAction::kDefer},
    {"WARN", RuleAction::kWarn},       {"HOLD", RuleAction::kHold},
    {"DISCARD", RuleAction::kDiscard}, {"IGNORE", RuleAction::kIgnore},
    {"PREPEND", RuleAction::kPrepend}, {"REPLACE", RuleAction::kReplace},
    {"DUNNO", RuleAction::kDunno},     {"OK", RuleAction::kDunno},
    {"SCORE", RuleAction::kScore},
};

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (is_space(s.front()) || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (is_space(s.back()) || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// "x.y.z" with the class digit `klass` ('4' or '5') at the start of `text`; its length, or 0.
std::size_t status_prefix(std::string_view text, char klass) {
    if (text.size() < 5 || text[0] != klass || text[1] != '.') return 0;
    std::size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        std::size_t digits = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 3)
            ++i, ++digits;
        if (digits == 0) return 0;
        if (part == 0) {
            if (i >= text.size() || text[i] != '.') return 0;
            ++i;
        }
    }
    if (i < text.size() && !is_space(text[i])) return 0;
    return i;
}

// The reply of a REJECT, DEFER or "4NN"/"5NN" rule: `base` with the rule's text, and the
// enhanced status the text starts with, if any.
smtp::Reply reply_with(smtp::Reply base, std::string_view text) {
    if (text.empty()) return base;
    if (std::size_t n = status_prefix(text, static_cast<char>('0' + base.code / 100))) {
        base.status = std::string(text.substr(0, n));
        text = trimmed(text.substr(n));
    }
    if (!text.empty()) base.text = std::string(text);
    return base;
}

bool is_header_field(std::string_view text) {
    auto colon = text.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    for (char c : text.substr(0, colon))
        if (c <= ' ' || c > '~') return false;
    return true;
}

}  // namespace

std::string_view action_name(RuleAction action) {
    switch (action) {
        case RuleAction::kReject:
            return "reject";
        case RuleAction::kDefer:
            return "defer";
        case RuleAction::kWarn:
            return "warn";
        case RuleAction::kHold:
            return "hold";
        case RuleAction::kDiscard:
            return "discard";
        case RuleAction::kIgnore:
            return "ignore";
        case RuleAction::kPrepend:
            return "prepend";
        case RuleAction::kReplace:
            return "replace";
        case RuleAction::kDunno:
            return "dunno";
        case RuleAction::kScore:
            return "score";
    }
    return "dunno";
}

struct RuleSet::Entries {
    enum class Kind { kRule, kIf, kEndif };
    struct Entry {
        Kind kind = Kind::kRule;
        boost::regex pattern;
        bool negate = false;
        std::size_t end = 0;  // kIf: the index of its endif
        Rule rule;
    };
    std::vector<Entry> list;
    std::size_t rules = 0;
};

RuleSet::RuleSet() : entries_(std::make_unique<Entries>()) {}
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;
RuleSet::~RuleSet() = default;

std::size_t RuleSet::size() const {
    return entries_->rules;
}

namespace {

// Reads one logical line's rule into `entry`; returns the error text, empty when it is good.
class LineParser {
  public:
    LineParser(std::string_view line, RuleTarget target) : rest_(line), target_(target) {}

    // `if` lines and rules start with a pattern: "[!]/pattern/flags".
    std::string pattern(boost::regex& out, bool& negate) {
        negate = false;
        if (!rest_.empty() && rest_.front() == '!') {
            negate = true;
            rest_.remove_prefix(1);
        }
        if (rest_.empty()) return "a pattern such as /text/ is missing";
        char delimiter = rest_.front();
        if (std::isalnum(static_cast<unsigned char>(delimiter)) || delimiter == '\\' ||
            is_space(delimiter) || static_cast<unsigned char>(delimiter) > 0x7e)
            return "a pattern must start with a delimiter such as /";
        std::size_t i = 1;
        while (i < rest_.size() && rest_[i] != delimiter)
            i += rest_[i] == '\\' ? 2 : 1;
        if (i >= rest_.size()) return std::string("the pattern has no closing ") + delimiter;
        std::string text(rest_.substr(1, i - 1));
        rest_.remove_prefix(i + 1);
        auto flags = boost::regex::perl | boost::regex::icase | boost::regex::no_mod_m |
                     boost::regex::no_mod_s;
        while (!rest_.empty() && !is_space(rest_.front())) {
            switch (rest_.front()) {
                case 'i':
                    flags &= ~boost::regex::icase;
                    break;
                case 'm':
                    flags &= ~boost::regex::no_mod_m;
                    break;
                case 's':
                    flags = (flags & ~boost::regex::no_mod_s) | boost::regex::mod_s;
                    break;
                case 'x':
                    flags |= boost::regex::mod_x;
                    break;
                default:
                    return std::string("unknown pattern flag '") + rest_.front() + "'";
            }
            rest_.remove_prefix(1);
        }
        try {
            out.assign(text, flags);
        } catch (const std::exception& e) {
            return "bad pattern /" + text + "/: " + e.what();
        }
        rest_ = trimmed(rest_);
        return "";
    }

    std::string action(Rule& rule) {
        if (rest_.empty()) return "the action after the pattern is missing";
        auto end = rest_.find_first_of(" \t");
        std::string word = ascii_upper(rest_.substr(0, end));
        rule.text = std::string(trimmed(end == std::string_view::npos ? "" : rest_.substr(end)));
        if (word.size() == 3 && (word[0] == '4' || word[0] == '5') &&
            std::isdigit(static_cast<unsigned char>(word[1])) &&
            std::isdigit(static_cast<unsigned char>(word[2]))) {
            int code = std::stoi(word);
            bool temporary = word[0] == '4';
            rule.action = temporary ? RuleAction::kDefer : RuleAction::kReject;
            auto base = smtp::reply(temporary ? smtp::ReplyName::kFilterTemporary
                                              : smtp::ReplyName::kFilterRejected);
            base.code = code;
            rule.reply = reply_with(std::move(base), rule.text);
            return "";
        }
        const Keyword* found = nullptr;
        for (const auto& k : kKeywords)
            if (k.name == word) found = &k;
        if (!found) return "unknown action \"" + word + "\"";
        rule.action = found->action;
        switch (rule.action) {
            case RuleAction::kReject:
                rule.reply = reply_with(smtp::reply(smtp::ReplyName::kFilterRejected), rule.text);
                break;
            case RuleAction::kDefer:
                rule.reply = reply_with(smtp::reply(smtp::ReplyName::kFilterTemporary), rule.text);
                break;
            case RuleAction::kScore: {
                // "SCORE 2.5 [text]": a number (a sign and decimals allowed), then the log text.
                std::string_view t = rule.text;
                auto end_number = t.find_first_of(" \t");
                std::string number(t.substr(0, end_number));
                char* parsed_to = nullptr;
                double points = number.empty() ? 0 : std::strtod(number.c_str(), &parsed_to);
                if (number.empty() || parsed_to != number.c_str() + number.size() ||
                    !std::isfinite(points) || points < -1000 || points > 1000)
                    return "SCORE needs points from -1000 to 1000, as in \"SCORE 2.5\"";
                rule.points = points;
                rule.text = std::string(
                    trimmed(end_number == std::string_view::npos ? "" : t.substr(end_number)));
                break;
            }
            case RuleAction::kIgnore:
            case RuleAction::kPrepend:
            case RuleAction::kReplace:
                if (target_ == RuleTarget::kBody) return word + " works in header rules only";
                if (rule.action != RuleAction::kIgnore && !is_header_field(rule.text))
                    return word + " needs a header field such as \"X-Tag: value\"";
                break;
            default:
                break;
        }
        return "";
    }

  private:
    std::string_view rest_;
    RuleTarget target_;
};

bool starts_with_word(std::string_view line, std::string_view word) {
    return line.starts_with(word) && (line.size() == word.size() || is_space(line[word.size()]));
}

}  // namespace

Result<RuleSet> RuleSet::parse(std::string_view text, std::string_view name, RuleTarget target) {
    RuleSet set;
    auto& list = set.entries_->list;
    std::vector<std::size_t> open_ifs;  // indexes of the `if` entries not yet closed
    auto error = [&](std::size_t line, const std::string& what) {
        return fail(ErrorCode::kInvalid,
                    std::string(name) + ":" + std::to_string(line) + ": " + what);
    };
    // Logical lines: a line starting with white space continues the one before.
    std::vector<std::pair<std::size_t, std::string>> logical;
    std::size_t number = 0;
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        ++number;
        std::string_view content = trimmed(line);
        if (content.empty() || content.front() == '#') continue;
        if (is_space(line.front())) {
            if (logical.empty()) return error(number, "a continuation line without a rule");
            logical.back().second += ' ';
            logical.back().second += content;
            continue;
        }
        logical.emplace_back(number, std::string(content));
    }
    for (const auto& [line_number, line] : logical) {
        Entries::Entry entry;
        std::string_view rest = line;
        if (starts_with_word(rest, "endif")) {
            if (open_ifs.empty()) return error(line_number, "endif without if");
            if (!trimmed(rest.substr(5)).empty()) return error(line_number, "text after endif");
            list[open_ifs.back()].end = list.size();
            open_ifs.pop_back();
            entry.kind = Entries::Kind::kEndif;
            list.push_back(std::move(entry));
            continue;
        }
        bool is_if = starts_with_word(rest, "if");
        if (is_if) rest = trimmed(rest.substr(2));
        LineParser parser(rest, target);
        if (auto why = parser.pattern(entry.pattern, entry.negate); !why.empty())
            return error(line_number, why);
        entry.rule.where = std::string(name) + ":" + std::to_string(line_number);
        if (is_if) {
            // The pattern parser leaves what follows it; an `if` line has nothing there.
            Rule unused;
            if (parser.action(unused) != "the action after the pattern is missing")
                return error(line_number, "text after the pattern of an if");
            entry.kind = Entries::Kind::kIf;
            open_ifs.push_back(list.size());
        } else {
            if (auto why = parser.action(entry.rule); !why.empty()) return error(line_number, why);
            ++set.entries_->rules;
        }
        list.push_back(std::move(entry));
    }
    if (!open_ifs.empty()) return error(logical.back().first, "if without endif");
    return set;
}

Result<RuleSet> RuleSet::load(const std::string& path, RuleTarget target) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorCode::kNotFound, path + ": cannot be read");
    std::string text;
    text.resize(kMaxFileOctets + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileOctets)
        return fail(ErrorCode::kInvalid, path + ": larger than 4 MiB");
    return parse(text, path, target);
}

const Rule* RuleSet::match(std::string_view line, bool* too_complex) const {
    const auto& list = entries_->list;
    for (std::size_t i = 0; i < list.size();) {
        const auto& entry = list[i];
        if (entry.kind == Entries::Kind::kEndif) {
            ++i;
            continue;
        }
        bool found = false;
        bool judged = true;
        try {
            found = boost::regex_search(line.begin(), line.end(), entry.pattern);
        } catch (const std::exception&) {
            judged = false;
            if (too_complex) *too_complex = true;
        }
        bool matches = judged && found != entry.negate;
        if (entry.kind == Entries::Kind::kIf) {
            i = matches ? i + 1 : entry.end + 1;
            continue;
        }
        if (matches) return &entry.rule;
        ++i;
    }
    return nullptr;
}

}  // namespace tern::policy
