// Rendering RFC 8601 section 2.2: values as tokens when they are tokens (RFC 2045), addresses as
// local-part@domain, anything else as a quoted-string; comments and reasons stripped of control
// characters and cut to a bounded length, so that no line can pass the 998-octet limit.
#include "mailauth/auth_results_builder.h"

#include <algorithm>

#include "base/text.h"
#include "mailauth/domain_name.h"
#include "message/header_text.h"

namespace tern::mailauth {
namespace {

constexpr std::size_t kMaxFreeText = 200;  // octets of a comment or reason kept
constexpr std::size_t kMinBPrefix = 8;     // RFC 6008 section 4

bool is_tspecial(char c) {
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F || is_tspecial(c)) return false;
    }
    return true;
}

bool is_atext(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
           std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != s.npos) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || is_atext(c); });
}

// Free text for a comment or quoted-string: one line, printable ASCII, bounded.
std::string clean(std::string_view text) {
    std::string s = message::clean_header_text(text, false);
    if (s.size() > kMaxFreeText) s.resize(kMaxFreeText);
    return s;
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : clean(text)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

std::string comment(std::string_view text) {
    std::string out = "(";
    for (char c : clean(text)) {
        if (c == '(' || c == ')' || c == '\\') out += '\\';
        out += c;
    }
    return out + ')';
}

// value, or [local-part] "@" domain-name for addresses (pvalue).
std::string pvalue(std::string_view v) {
    if (is_token(v)) return std::string(v);
    std::size_t at = v.rfind('@');
    if (at != std::string_view::npos) {
        std::string_view local = v.substr(0, at);
        std::string_view domain = v.substr(at + 1);
        if ((local.empty() || is_dot_atom(local)) && is_token(domain) && is_dot_atom(domain))
            return std::string(v);
    }
    return quoted(v);
}

// The elements of one resinfo, each written whole on a line.
std::vector<std::string> elements(const ResultInfo& info) {
    std::string method = info.method;
    if (!info.method_version.empty()) method += "/" + info.method_version;
    std::vector<std::string> out{method + "=" + info.result};
    if (!info.comment.empty()) out.push_back(comment(info.comment));
    if (!info.reason.empty()) out.push_back("reason=" + quoted(info.reason));
    for (const AuthProperty& p : info.properties)
        out.push_back(p.ptype + "." + p.property + "=" + pvalue(p.value));
    return out;
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
    std::size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n])
        ++n;
    return n;
}

void add_reason(ResultInfo& info, AuthResult result, const std::string& reason) {
    if (result != AuthResult::kPass && !reason.empty()) info.reason = reason;
}

}  // namespace

std::string format_authentication_results(const AuthenticationResults& field) {
    std::string id = field.authserv_id.empty() ? "localhost" : field.authserv_id;
    std::string out = "Authentication-Results: " + (is_token(id) ? id : quoted(id));
    if (!field.version.empty()) out += " " + field.version;
    if (field.results.empty()) return out + "; none\r\n";
    for (const ResultInfo& info : field.results) {
        out += ";\r\n\t";
        std::size_t line = 1;  // the tab
        bool first = true;
        for (const std::string& e : elements(info)) {
            if (!first && line + 1 + e.size() > message::kFoldLine) {
                out += "\r\n\t";
                line = 1;
            } else if (!first) {
                out += ' ';
                ++line;
            }
            out += e;
            line += e.size();
            first = false;
        }
    }
    return out + "\r\n";
}

std::string format_result_info(const ResultInfo& info) {
    std::string out;
    for (const std::string& e : elements(info))
        out += (out.empty() ? "" : " ") + e;
    return out;
}

ResultInfo spf_result_info(const SpfEvidence& spf) {
    ResultInfo info{"spf", "", std::string(result_name(spf.result)), "", "", {}};
    add_reason(info, spf.result, spf.reason);
    if (spf.identity == SpfEvidence::Identity::kHelo) {
        info.properties.push_back({"smtp", "helo", spf.domain});
    } else {
        info.properties.push_back(
            {"smtp", "mailfrom", spf.mail_from.empty() ? spf.domain : spf.mail_from});
    }
    return info;
}

std::vector<ResultInfo> dkim_result_infos(std::span<const DkimOutcome> signatures) {
    std::vector<ResultInfo> out;
    for (const DkimOutcome& sig : signatures) {
        ResultInfo info{"dkim", "", std::string(result_name(sig.result)), "", "", {}};
        add_reason(info, sig.result, sig.reason);
        if (!sig.domain.empty()) info.properties.push_back({"header", "d", sig.domain});
        if (!sig.selector.empty()) info.properties.push_back({"header", "s", sig.selector});
        if (!sig.signature_b.empty()) {
            std::size_t length = kMinBPrefix;
            for (const DkimOutcome& other : signatures)
                if (other.signature_b != sig.signature_b)
                    length =
                        std::max(length, common_prefix(sig.signature_b, other.signature_b) + 1);
            info.properties.push_back(
                {"header", "b",
                 sig.signature_b.substr(0, std::min(length, sig.signature_b.size()))});
        }
        out.push_back(std::move(info));
    }
    return out;
}

ResultInfo dmarc_result_info(const DmarcResult& dmarc, const DmarcDisposition* disposition) {
    ResultInfo info{"dmarc", "", std::string(result_name(dmarc.result)), "", "", {}};
    if (dmarc.record) {
        const DmarcRecord& r = *dmarc.record;
        auto tag = [](std::string_view name, const std::optional<DmarcPolicy>& p) {
            return p ? " " + std::string(name) + "=" + std::string(policy_name(*p)) : std::string();
        };
        info.comment = "p=" + std::string(policy_name(r.policy_for(DmarcRecord::Scope::kDomain)));
        info.comment += tag("sp", r.sp) + tag("np", r.np) + (r.testing ? " t=y" : "");
        if (disposition) info.comment += " dis=" + std::string(action_name(disposition->action));
    }
    if (dmarc.result != AuthResult::kPass) info.reason = dmarc.reason;
    if (to_a_label(dmarc.author_domain))
        info.properties.push_back({"header", "from", dmarc.author_domain});
    if (dmarc.record) {
        DmarcPolicy applied = disposition ? disposition->applied : effective_policy(dmarc);
        info.properties.push_back({"policy", "dmarc", std::string(policy_name(applied))});
    }
    return info;
}

ResultInfo arc_result_info(const ArcEvidence& arc) {
    ResultInfo info{"arc", "", std::string(result_name(arc.chain)), "", "", {}};
    if (arc.instance > 0 && !arc.sealer.empty())
        info.comment = "i=" + std::to_string(arc.instance) + " d=" + arc.sealer;
    return info;
}

}  // namespace tern::mailauth
