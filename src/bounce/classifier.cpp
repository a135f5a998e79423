// BounceClassifier: rules parsed from TOML (toml++), texts compiled with Boost.Regex's Perl
// syntax with a bounded number of matching steps, as the content rules are (a hostile reply
// against a careless pattern costs milliseconds, not minutes).
#define BOOST_REGEX_MAX_STATE_COUNT 1000000
#include "bounce/classifier.h"

#include <toml++/toml.h>

#include <boost/regex.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

namespace tern::bounce {
namespace {

constexpr std::size_t kMaxText = 512;                // octets of a reply looked at
constexpr std::size_t kMaxFileOctets = 1024 * 1024;  // of a rules file
constexpr std::size_t kMaxPattern = 256;             // octets of an operator rule's text

// Built-in rules, most specific first. The order matters: a reputation block's text often
// names a list ("Spamhaus") that a later rule would take for spam; "quota exceeded" is a full
// mailbox, not a rate.
constexpr std::string_view kBuiltin = R"(# Tern's built-in bounce rules (docs/bounces.md)
# A refusal of the sender (its address, its domain, a verification of it) says nothing about
# the recipient: first, so that no recipient rule takes "User unknown" or "Domain not found"
# from it.
[[rule]]
category = "sender_rejected"
status = "X.1.7"
[[rule]]
category = "sender_rejected"
status = "X.1.8"
[[rule]]
category = "sender_rejected"
text = 'sender (address )?(rejected|verif|domain)|verification failed|domain of sender|sender .*(unknown|not found|does not exist)|from your (server|domain|ip)|not accept mail from'

[[rule]]
category = "virus"
text = '\b(virus|malware|infected)\b'

[[rule]]
category = "reputation_block"
text = 'reputation|block ?list|black ?list|spamhaus|barracuda|spamcop|sorbs|\bdnsbl\b|\brbl\b|listed (at|in|on)|banned sending|ip address .*(block|ban)|blocked using'

[[rule]]
category = "rate_limited"
status = "X.7.28"
[[rule]]
category = "authentication"
status = "X.7.20"
[[rule]]
category = "authentication"
status = "X.7.21"
[[rule]]
category = "authentication"
status = "X.7.22"
[[rule]]
category = "authentication"
status = "X.7.23"
[[rule]]
category = "authentication"
status = "X.7.24"
[[rule]]
category = "authentication"
status = "X.7.25"
[[rule]]
category = "authentication"
status = "X.7.26"
[[rule]]
category = "authentication"
text = '\b(dmarc|dkim|spf)\b|not authenticated|unauthenticated|authentication (check|fail)'

[[rule]]
category = "rate_limited"
text = 'rate.?limit|throttl|too many (connections|messages|emails|mails|sessions)|sending rate|too fast|slow down|exceeded the (rate|message|connection) limit|try again in \d+ (second|minute)|temporarily deferred|unexpected volume|too quickly|at a rate'

[[rule]]
category = "greylisted"
text = 'gr[ae]y.?list'

[[rule]]
category = "spam_content"
text = '\bspam\b|unsolicited|junk|\bbulk\b|phish|suspicious|content (rejected|filter)|message content'

[[rule]]
category = "mailbox_full"
status = "X.2.2"
[[rule]]
category = "mailbox_full"
text = 'mailbox (is )?full|over ?quota|quota exceeded|exceeded (the|its|their|his|her) (storage|quota)|insufficient (storage|disk)|out of storage|full mailbox|storage space'

[[rule]]
category = "message_too_large"
status = "X.3.4"
[[rule]]
category = "message_too_large"
status = "X.2.3"
[[rule]]
category = "message_too_large"
text = 'too (large|big)|size limit|exceeds? (the )?(maximum|max|allowed) (message )?size'

[[rule]]
category = "inactive_mailbox"
status = "X.2.1"
[[rule]]
category = "inactive_mailbox"
code = "5"
text = '(mailbox|account|address|user) (is |has been )?(disabled|inactive|deactivated|suspended|closed|expired|locked)|no longer (active|in use|valid)'

[[rule]]
category = "relay_denied"
text = 'relay(ing)? (access )?(denied|not (permitted|allowed))|unable to relay|not permitted to relay|relay not permitted|allowed rcpthosts'

[[rule]]
category = "invalid_recipient"
code = "5"
text = 'recipientnotfound|recipient not found|doesn.t have an? \S+ account|\bdd this user|recipient address rejected: access denied'
[[rule]]
category = "invalid_recipient"
status = "X.1.1"
[[rule]]
category = "invalid_recipient"
status = "X.1.3"
[[rule]]
category = "invalid_recipient"
status = "X.1.6"
[[rule]]
category = "invalid_domain"
status = "X.1.2"
[[rule]]
category = "invalid_domain"
status = "X.1.10"
[[rule]]
category = "invalid_domain"
status = "5.4.4"
[[rule]]
category = "invalid_recipient"
code = "5"
text = 'user unknown|unknown (user|recipient|address|mailbox)|no such (user|mailbox|recipient|address|account)|(does not|doesn.t) exist|invalid (recipient|mailbox|address)|recipient (address )?(unknown|not found|invalid)|mailbox (not found|unavailable|does not exist)|address (not found|unknown)|not a valid (mailbox|recipient)|undeliverable address|no mailbox|unrouteable address'
[[rule]]
category = "invalid_domain"
code = "5"
text = 'host or domain name not found|domain (not found|does not exist)|no (mx|mail exchanger)|nxdomain|null mx|accepts no mail'

[[rule]]
category = "dns_failure"
status = "X.4.3"
[[rule]]
category = "dns_failure"
text = '\bdns\b|looking up|name server|servfail'

[[rule]]
category = "tls_failure"
status = "X.7.5"
[[rule]]
category = "tls_failure"
status = "X.7.10"
[[rule]]
category = "tls_failure"
status = "X.7.11"
[[rule]]
category = "tls_failure"
text = '\b(tls|starttls|ssl)\b|certificate|handshake'

[[rule]]
category = "routing"
status = "X.4.6"
[[rule]]
category = "routing"
status = "X.4.0"

[[rule]]
category = "connection"
code = "4"
status = "X.4.1"
[[rule]]
category = "connection"
code = "4"
status = "X.4.2"
[[rule]]
category = "connection"
text = 'connection (refused|reset|timed out|closed)|timed out|timeout|lost connection|no server answered|connect to'

[[rule]]
category = "expired"
status = "X.4.7"

[[rule]]
category = "policy"
status = "X.7"
[[rule]]
category = "policy"
text = '\bpolicy\b|rejected|denied|blocked|not allowed|prohibited|refused'

[[rule]]
category = "protocol"
status = "X.5"
[[rule]]
category = "content"
status = "X.6"
[[rule]]
category = "system"
status = "X.3"
)";

bool all_digits(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

// "5.7.1", "X.1.1", "5.7", "x.7": a class (or X), then one or two numbers of up to 3 digits.
bool valid_status_pattern(std::string_view s) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = s.find('.', start);
        parts.push_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (parts.size() < 2 || parts.size() > 3) return false;
    if (parts[0] != "X" && parts[0] != "x" && parts[0] != "2" && parts[0] != "4" && parts[0] != "5")
        return false;
    for (std::size_t i = 1; i < parts.size(); ++i)
        if (!all_digits(parts[i], 3)) return false;
    return true;
}

// `status` ("x.y.z") matches `pattern` component by component; numbers compare as numbers
// ("5.7.01" is "5.7.1"), so "5.7.1" never matches "5.7.10".
bool status_matches(std::string_view pattern, std::string_view status) {
    if (pattern.empty()) return true;
    if (status.empty()) return false;
    while (!pattern.empty()) {
        std::size_t pd = pattern.find('.');
        std::size_t sd = status.find('.');
        std::string_view p = pattern.substr(0, pd);
        std::string_view s = status.substr(0, sd);
        if (s.empty()) return false;
        if (p != "X" && p != "x") {
            auto number = [](std::string_view v) {
                int n = 0;
                for (char c : v)
                    n = n * 10 + (c - '0');
                return n;
            };
            if (number(p) != number(s)) return false;
        }
        if (pd == std::string_view::npos) break;
        if (sd == std::string_view::npos) return false;
        pattern.remove_prefix(pd + 1);
        status.remove_prefix(sd + 1);
    }
    return true;
}

}  // namespace

bool valid_category(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

struct BounceClassifier::Compiled {
    BounceRule rule;
    std::optional<boost::regex> text;
};

BounceClassifier::~BounceClassifier() = default;

ReplyParts split_reply(std::string_view reply) {
    ReplyParts parts;
    bool first = true;
    while (!reply.empty() && parts.text.size() < kMaxText) {
        std::size_t end = reply.find('\n');
        std::string_view line = reply.substr(0, end);
        reply = end == std::string_view::npos ? std::string_view() : reply.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        // "550-5.1.1 text" / "550 5.1.1 text": the code and status repeat on every line.
        if (line.size() >= 3 && all_digits(line.substr(0, 3), 3) &&
            (line.size() == 3 || line[3] == ' ' || line[3] == '-')) {
            if (first) parts.code = line.substr(0, 3);
            line.remove_prefix(std::min<std::size_t>(4, line.size()));
            std::size_t sp = line.find(' ');
            std::string_view word = line.substr(0, sp);
            if (word.size() >= 5 && std::isdigit(static_cast<unsigned char>(word[0])) &&
                word[1] == '.' && valid_status_pattern(word) &&
                std::count(word.begin(), word.end(), '.') == 2) {
                if (first) parts.status = std::string(word);
                line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
            }
        }
        first = false;
        if (line.empty()) continue;
        if (!parts.text.empty()) parts.text += ' ';
        parts.text += line.substr(0, kMaxText - std::min(kMaxText, parts.text.size()));
    }
    // qmail writes its status at the end: "553 sorry, ... (#5.7.1)".
    if (parts.status.empty()) {
        for (auto at = parts.text.find("(#"); at != std::string::npos;
             at = parts.text.find("(#", at + 2)) {
            auto close = parts.text.find(')', at);
            if (close == std::string::npos) break;
            std::string_view word = std::string_view(parts.text).substr(at + 2, close - at - 2);
            if (word.size() >= 5 && std::isdigit(static_cast<unsigned char>(word[0])) &&
                valid_status_pattern(word) && std::count(word.begin(), word.end(), '.') == 2) {
                parts.status = std::string(word);
                break;
            }
        }
    }
    return parts;
}

Result<std::vector<BounceRule>> parse_bounce_rules(std::string_view text, std::string_view name) {
    toml::table root;
    try {
        root = toml::parse(text, std::string(name));
    } catch (const toml::parse_error& e) {
        std::ostringstream where;
        where << name << ":" << e.source().begin.line;
        return fail(ErrorCode::kInvalid,
                    where.str() + ": not TOML: " + std::string(e.description()));
    }
    std::vector<BounceRule> rules;
    for (auto&& [key, node] : root) {
        if (key.str() != "rule")
            return fail(ErrorCode::kInvalid, std::string(name) + ": unknown key '" +
                                                 std::string(key.str()) +
                                                 "' (rules are [[rule]] tables)");
    }
    auto* array = root["rule"].as_array();
    if (!array) {
        if (root.contains("rule"))
            return fail(ErrorCode::kInvalid,
                        std::string(name) + ": 'rule' must be [[rule]] tables");
        return rules;
    }
    for (auto& node : *array) {
        BounceRule rule;
        rule.where = std::string(name) + ":" +
                     std::to_string(node.source().begin.line ? node.source().begin.line : 0);
        auto* table = node.as_table();
        if (!table) return fail(ErrorCode::kInvalid, rule.where + ": a rule must be a table");
        for (auto&& [key, value] : *table) {
            std::string k(key.str());
            auto* s = value.as_string();
            if (k != "category" && k != "code" && k != "status" && k != "text")
                return fail(ErrorCode::kInvalid, rule.where + ": unknown key '" + k +
                                                     "' (a rule has category, code, status, text)");
            if (!s) return fail(ErrorCode::kInvalid, rule.where + ": '" + k + "' must be a string");
            std::string v = s->get();
            if (k == "category") rule.category = v;
            if (k == "code") rule.code = v;
            if (k == "status") rule.status = v;
            if (k == "text") rule.text = v;
        }
        if (!valid_category(rule.category))
            return fail(ErrorCode::kInvalid,
                        rule.where + ": 'category' must be 1 to 64 of a-z, 0-9 and _");
        if (!rule.code.empty() &&
            (!all_digits(rule.code, 3) || rule.code[0] < '2' || rule.code[0] > '5'))
            return fail(ErrorCode::kInvalid,
                        rule.where +
                            ": 'code' must be 1 to 3 digits of a reply code (\"5\", "
                            "\"55\", \"550\")");
        if (!rule.status.empty() && !valid_status_pattern(rule.status))
            return fail(ErrorCode::kInvalid,
                        rule.where +
                            ": 'status' must be an enhanced status code (\"5.7.1\", "
                            "\"X.1.1\", \"5.7\")");
        if (rule.text.size() > kMaxPattern && name != "built-in")
            return fail(ErrorCode::kInvalid, rule.where + ": 'text' is longer than 256 octets");
        if (rule.code.empty() && rule.status.empty() && rule.text.empty())
            return fail(ErrorCode::kInvalid,
                        rule.where + ": a rule needs at least one of code, status, text");
        rules.push_back(std::move(rule));
    }
    return rules;
}

std::string_view builtin_bounce_rules() {
    return kBuiltin;
}

Result<std::unique_ptr<BounceClassifier>> BounceClassifier::create(
    std::vector<BounceRule> operator_rules) {
    auto builtin = parse_bounce_rules(kBuiltin, "built-in");
    if (!builtin) return std::unexpected(builtin.error());
    for (auto& r : *builtin)
        operator_rules.push_back(std::move(r));
    std::unique_ptr<BounceClassifier> c(new BounceClassifier());
    for (auto& r : operator_rules) {
        Compiled compiled{std::move(r), std::nullopt};
        if (!compiled.rule.text.empty()) {
            try {
                compiled.text.emplace(compiled.rule.text, boost::regex::perl | boost::regex::icase);
            } catch (const std::exception& e) {
                return fail(
                    ErrorCode::kInvalid,
                    compiled.rule.where + ": 'text' is not a regular expression: " + e.what());
            }
        }
        c->rules_.push_back(std::move(compiled));
    }
    return c;
}

Result<std::unique_ptr<BounceClassifier>> BounceClassifier::load(const std::string& path) {
    if (path.empty()) return create({});
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorCode::kIo, path + ": cannot be read");
    std::string text;
    text.resize(kMaxFileOctets + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileOctets)
        return fail(ErrorCode::kInvalid, path + ": larger than 1 MiB");
    auto rules = parse_bounce_rules(text, path);
    if (!rules) return std::unexpected(rules.error());
    return create(std::move(*rules));
}

std::string BounceClassifier::classify(std::string_view reply) const {
    ReplyParts parts = split_reply(reply);
    for (const auto& c : rules_) {
        if (!c.rule.code.empty() && !parts.code.starts_with(c.rule.code)) continue;
        if (!status_matches(c.rule.status, parts.status)) continue;
        if (c.text) {
            try {
                if (!boost::regex_search(parts.text, *c.text)) continue;
            } catch (const std::exception&) {
                continue;  // the step bound reached: this rule does not match
            }
        }
        return c.rule.category;
    }
    return parts.code.starts_with('4') ? "transient" : "uncategorized";
}

}  // namespace tern::bounce
