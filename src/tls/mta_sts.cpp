// MTA-STS parsing and matching (RFC 8461 sections 3.1, 3.2 and 4.1). Kept free of I/O so the
// policy rules are unit-tested on text alone.
#include "tls/mta_sts.h"

#include <charconv>

#include "base/text.h"

namespace tern::tls {
namespace {

constexpr std::int64_t kMaxAge = 31557600;  // RFC 8461 3.2: at most one year
constexpr std::size_t kMaxPolicySize = 64 * 1024;

}  // namespace

std::string_view mode_name(StsPolicy::Mode mode) {
    switch (mode) {
        case StsPolicy::Mode::kEnforce:
            return "enforce";
        case StsPolicy::Mode::kTesting:
            return "testing";
        case StsPolicy::Mode::kNone:
            return "none";
    }
    return "";
}

std::expected<StsPolicy, std::string> parse_sts_policy(std::string_view text) {
    if (text.size() > kMaxPolicySize) return std::unexpected("policy larger than 64 KiB");
    StsPolicy p;
    bool version = false, mode = false, max_age = false;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = trim_blanks(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty()) continue;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return std::unexpected("malformed line in policy");
        std::string key = ascii_lower(trim_blanks(line.substr(0, colon)));
        std::string_view value = trim_blanks(line.substr(colon + 1));
        if (key == "version") {
            if (value != "STSv1") return std::unexpected("unknown policy version");
            version = true;
        } else if (key == "mode") {
            if (value == "enforce")
                p.mode = StsPolicy::Mode::kEnforce;
            else if (value == "testing")
                p.mode = StsPolicy::Mode::kTesting;
            else if (value == "none")
                p.mode = StsPolicy::Mode::kNone;
            else
                return std::unexpected("unknown mode");
            mode = true;
        } else if (key == "max_age") {
            std::int64_t n = -1;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc() || ptr != value.data() + value.size() || n < 0 || n > kMaxAge ||
                value.size() > 10)
                return std::unexpected("bad max_age");
            p.max_age = n;
            max_age = true;
        } else if (key == "mx") {
            if (value.empty() || value.find_first_of(" \t") != std::string_view::npos)
                return std::unexpected("bad mx");
            p.mx.push_back(ascii_lower(value));
        }
    }
    if (!version || !mode || !max_age)
        return std::unexpected("policy lacks version, mode or max_age");
    if (p.mode != StsPolicy::Mode::kNone && p.mx.empty())
        return std::unexpected("policy names no mx");
    return p;
}

std::optional<std::string> parse_sts_record(std::string_view txt) {
    // "v=STSv1; id=20160831085700Z;" — v must come first; id is 1 to 32 alphanumerics.
    std::optional<std::string> id;
    bool first = true;
    while (!txt.empty()) {
        auto semi = txt.find(';');
        std::string_view field = trim_blanks(txt.substr(0, semi));
        txt = semi == std::string_view::npos ? std::string_view{} : txt.substr(semi + 1);
        if (field.empty()) continue;
        auto eq = field.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        auto key = trim_blanks(field.substr(0, eq));
        auto value = trim_blanks(field.substr(eq + 1));
        if (first) {
            if (key != "v" || value != "STSv1") return std::nullopt;
            first = false;
            continue;
        }
        if (key == "id") {
            if (value.empty() || value.size() > 32) return std::nullopt;
            for (char c : value)
                if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
            id = std::string(value);
        }
    }
    return id;
}

bool sts_mx_matches(std::string_view pattern, std::string_view host) {
    std::string h = ascii_lower(host);
    if (!h.empty() && h.back() == '.') h.pop_back();
    std::string p = ascii_lower(pattern);
    if (p.rfind("*.", 0) == 0) {
        auto dot = h.find('.');
        return dot != std::string::npos && dot > 0 && h.substr(dot + 1) == p.substr(2);
    }
    return !h.empty() && h == p;
}

bool sts_mx_allowed(const StsPolicy& policy, std::string_view host) {
    for (const auto& pattern : policy.mx)
        if (sts_mx_matches(pattern, host)) return true;
    return false;
}

}  // namespace tern::tls
