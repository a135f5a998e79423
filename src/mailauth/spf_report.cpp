// Received-SPF (RFC 7208 section 9.1): the comment wording follows the examples of RFC 7208;
// values that are not dot-atoms are quoted, so odd HELO names and addresses cannot break the
// field.
#include "mailauth/spf_report.h"

#include <string_view>
#include <vector>

namespace tern::mailauth {
namespace {

bool is_atext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// RFC 5322 dot-atom: atext runs separated by single dots.
bool is_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '.') {
            if (s[i - 1] == '.') return false;
        } else if (!is_atext(s[i])) {
            return false;
        }
    }
    return true;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\r' || c == '\n') continue;
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// The text of a (comment): parentheses and backslashes escaped, line ends dropped.
std::string comment_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\r' || c == '\n') continue;
        if (c == '(' || c == ')' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string comment_for(const SpfRequest& request, const SpfOutcome& o,
                        const std::string& receiver) {
    std::string who = o.identity == SpfIdentity::kHelo ? o.domain : o.sender;
    std::string ip = request.client.str();
    std::string text;
    switch (o.result) {
        case AuthResult::kPass:
            text = "domain of " + who + " designates " + ip + " as permitted sender";
            break;
        case AuthResult::kFail:
            text = "domain of " + who + " does not designate " + ip + " as permitted sender";
            break;
        case AuthResult::kSoftFail:
            text = "domain of transitioning " + who + " does not designate " + ip +
                   " as permitted sender";
            break;
        case AuthResult::kNeutral:
            text = ip + " is neither permitted nor denied by domain of " + who;
            break;
        case AuthResult::kNone:
            text = "domain of " + who + " does not designate permitted sender hosts";
            break;
        default:
            text = "error in processing during lookup of " + who + ": " + o.reason;
            break;
    }
    return receiver + ": " + text;
}

}  // namespace

std::string received_spf_field(const SpfRequest& request, const SpfOutcome& outcome,
                               const std::string& receiver) {
    auto value = [](std::string_view v) { return is_dot_atom(v) ? std::string(v) : quoted(v); };
    std::vector<std::string> pairs{
        "client-ip=" + value(request.client.str()),
        "envelope-from=" + quoted(request.sender),
        "helo=" + value(request.helo),
        "receiver=" + value(receiver),
        std::string("identity=") + (outcome.identity == SpfIdentity::kHelo ? "helo" : "mailfrom"),
    };
    if (!outcome.mechanism.empty()) pairs.push_back("mechanism=" + value(outcome.mechanism));
    if (outcome.result == AuthResult::kTempError || outcome.result == AuthResult::kPermError)
        pairs.push_back("problem=" + quoted(outcome.reason));

    // Folded at spaces (FWS may stand there, in comments and quoted strings too) so that
    // lines stay within 78 columns where the words allow it.
    std::string text = std::string(result_name(outcome.result)) + " (" +
                       comment_text(comment_for(request, outcome, receiver)) + ")";
    for (std::size_t i = 0; i < pairs.size(); ++i)
        text += " " + pairs[i] + (i + 1 < pairs.size() ? ";" : "");
    std::vector<std::string> words{"Received-SPF:"};
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t space = text.find(' ', start);
        if (space == std::string::npos) space = text.size();
        words.push_back(text.substr(start, space - start));
        start = space + 1;
    }
    std::string field;
    std::size_t line = 0;
    for (const auto& word : words) {
        if (field.empty()) {
            field = word;
            line = word.size();
        } else if (line + 1 + word.size() > 78) {
            field += "\r\n " + word;
            line = 1 + word.size();
        } else {
            field += " " + word;
            line += 1 + word.size();
        }
    }
    return field + "\r\n";
}

}  // namespace tern::mailauth
