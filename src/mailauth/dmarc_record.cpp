// The DMARC record grammar of DMARCbis section 4.8 (RFC 7489 section 6.4 for pct=, rf=, ri=):
// a tag list that must begin with v=DMARC1, read leniently after that as section 4.8 asks.
#include "mailauth/dmarc_record.h"

#include <utility>

#include "base/text.h"

namespace tern::mailauth {
namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_wsp(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back()))
        s.remove_suffix(1);
    return s;
}

// dmarc-value: printing characters but ';' (which cannot occur here) and at least one of them.
bool valid_value(std::string_view v) {
    if (v.empty()) return false;
    for (char c : v)
        if (c < 0x20 || c > 0x7E) return false;
    return true;
}

bool valid_tag_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!is_alpha(c)) return false;
    return true;
}

std::optional<DmarcPolicy> parse_policy(std::string_view v) {
    if (ascii_iequals(v, "none")) return DmarcPolicy::kNone;
    if (ascii_iequals(v, "quarantine")) return DmarcPolicy::kQuarantine;
    if (ascii_iequals(v, "reject")) return DmarcPolicy::kReject;
    return std::nullopt;
}

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A URI of RFC 3986 in outline: a scheme, ':', then URI characters (percent-encodings whole);
// ',' and '!' must be encoded in a DMARC URI, so they are refused here.
bool valid_uri(std::string_view uri) {
    std::size_t colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size()) return false;
    if (!is_alpha(uri[0])) return false;
    for (char c : uri.substr(0, colon))
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    constexpr std::string_view kOther = "-._~:/?#[]@$&'()*+;=";
    for (std::size_t i = colon + 1; i < uri.size(); ++i) {
        char c = uri[i];
        if (c == '%') {
            if (i + 2 >= uri.size() || !is_hex(uri[i + 1]) || !is_hex(uri[i + 2])) return false;
            i += 2;
        } else if (!is_alpha(c) && !is_digit(c) && kOther.find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

// The obsolete size limit of RFC 7489 ("!10m"), which DMARCbis says to ignore.
std::string_view without_size_suffix(std::string_view uri) {
    std::size_t bang = uri.rfind('!');
    if (bang == std::string_view::npos) return uri;
    std::string_view size = uri.substr(bang + 1);
    std::size_t digits = 0;
    while (digits < size.size() && is_digit(size[digits]))
        ++digits;
    if (digits == 0) return uri;
    std::string_view unit = size.substr(digits);
    if (!unit.empty() &&
        !(unit.size() == 1 && std::string_view("kmgtKMGT").find(unit[0]) != std::string_view::npos))
        return uri;
    return uri.substr(0, bang);
}

void parse_uri_list(std::string_view tag, std::string_view value, std::vector<std::string>& out,
                    std::vector<std::string>& errors) {
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        std::string_view item = trim(value.substr(start, comma - start));
        std::string_view uri = without_size_suffix(item);
        if (valid_uri(uri)) {
            out.emplace_back(uri);
        } else {
            errors.push_back(std::string(tag) + "=: not a URI: '" + std::string(item) + "'");
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
}

// dmarc-fo: "0", "1", "d", "s" separated by ':', each at most once, "0" and "1" not together.
bool valid_fo(std::string_view v) {
    bool seen[4] = {false, false, false, false};
    std::size_t start = 0;
    while (true) {
        std::size_t colon = v.find(':', start);
        std::string_view item = trim(v.substr(start, colon - start));
        constexpr std::string_view kOptions = "01ds";
        if (item.size() != 1) return false;
        std::size_t which = kOptions.find(static_cast<char>(ascii_lower(item)[0]));
        if (which == std::string_view::npos || seen[which]) return false;
        seen[which] = true;
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    return !(seen[0] && seen[1]);
}

std::optional<int> parse_pct(std::string_view v) {
    if (v.empty() || v.size() > 3) return std::nullopt;
    int n = 0;
    for (char c : v) {
        if (!is_digit(c)) return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n > 100) return std::nullopt;
    return n;
}

// The one-letter tags: their letters and what each letter means.
template <class T>
std::optional<T> parse_letter(std::string_view v, std::initializer_list<std::pair<char, T>> map) {
    if (v.size() != 1) return std::nullopt;
    char c = static_cast<char>(ascii_lower(v)[0]);
    for (auto [letter, meaning] : map)
        if (letter == c) return meaning;
    return std::nullopt;
}

class TagReader {
  public:
    explicit TagReader(DmarcRecord& record) : r_(record) {}

    void read(std::string_view name, std::string_view value) {
        std::string tag = ascii_lower(name);
        for (const auto& seen : seen_) {
            if (seen == tag) {
                error(tag, value, "given twice; the first is used");
                return;
            }
        }
        seen_.push_back(tag);
        if (tag == "p") {
            read_policy(tag, value, r_.p, r_.p_invalid);
        } else if (tag == "sp") {
            read_policy(tag, value, r_.sp, r_.sp_invalid);
        } else if (tag == "np") {
            read_policy(tag, value, r_.np, r_.np_invalid);
        } else if (tag == "psd") {
            auto f = parse_letter<PsdFlag>(
                value, {{'y', PsdFlag::kYes}, {'n', PsdFlag::kNo}, {'u', PsdFlag::kUnknown}});
            f ? void(r_.psd = *f) : error(tag, value, "not y, n or u");
        } else if (tag == "t") {
            auto f = parse_letter<bool>(value, {{'y', true}, {'n', false}});
            f ? void(t_ = *f) : error(tag, value, "not y or n");
        } else if (tag == "adkim" || tag == "aspf") {
            auto f = parse_letter<Alignment>(
                value, {{'r', Alignment::kRelaxed}, {'s', Alignment::kStrict}});
            if (!f) return error(tag, value, "not r or s");
            (tag == "adkim" ? r_.adkim : r_.aspf) = *f;
        } else if (tag == "pct") {
            r_.pct = parse_pct(value);
            if (!r_.pct) error(tag, value, "not a whole number from 0 to 100");
        } else if (tag == "rua" || tag == "ruf") {
            parse_uri_list(tag, value, tag == "rua" ? r_.rua : r_.ruf, r_.errors);
        } else if (tag == "fo") {
            valid_fo(value) ? void(r_.fo = std::string(value))
                            : error(tag, value, "not a list of 0, 1, d and s");
        } else if (tag == "rf") {
            r_.rf = std::string(value);
        } else if (tag == "ri") {
            r_.ri = std::string(value);
        }
        // Any other tag is unknown and ignored (section 4.7).
    }

    // t= when given, else RFC 7489's pct=0, which DMARCbis appendix A.6 makes t=y's forerunner.
    void finish() { r_.testing = t_ ? *t_ : (r_.pct && *r_.pct == 0); }

  private:
    void read_policy(std::string_view tag, std::string_view value, std::optional<DmarcPolicy>& out,
                     bool& invalid) {
        out = parse_policy(value);
        invalid = !out;
        if (invalid) error(tag, value, "not none, quarantine or reject");
    }

    void error(std::string_view tag, std::string_view value, std::string_view why) {
        r_.errors.push_back(std::string(tag) + "=" + std::string(value) + ": " + std::string(why));
    }

    DmarcRecord& r_;
    std::vector<std::string> seen_;
    std::optional<bool> t_;
};

// "v=DMARC1" with blanks allowed around '=' only; the name is case-insensitive, the value not.
bool is_version_tag(std::string_view segment) {
    std::size_t eq = segment.find('=');
    if (eq == std::string_view::npos) return false;
    return ascii_iequals(trim(segment.substr(0, eq)), "v") &&
           trim(segment.substr(eq + 1)) == "DMARC1";
}

}  // namespace

bool DmarcRecord::policy_tags_valid() const {
    return !p_invalid && !sp_invalid && !np_invalid;
}

bool DmarcRecord::usable() const {
    return policy_tags_valid() || !rua.empty();
}

DmarcPolicy DmarcRecord::policy_for(Scope scope) const {
    if (!policy_tags_valid()) return DmarcPolicy::kNone;
    std::optional<DmarcPolicy> chosen = p;
    if (scope != Scope::kDomain && sp) chosen = sp;
    if (scope == Scope::kNonExistentSubdomain && np) chosen = np;
    return chosen.value_or(DmarcPolicy::kNone);
}

std::optional<DmarcRecord> parse_dmarc_record(std::string_view text) {
    std::size_t semi = text.find(';');
    if (!is_version_tag(text.substr(0, semi))) return std::nullopt;
    DmarcRecord record;
    TagReader reader(record);
    while (semi != std::string_view::npos) {
        std::size_t start = semi + 1;
        semi = text.find(';', start);
        std::string_view segment = trim(text.substr(start, semi - start));
        if (segment.empty()) continue;  // a trailing ';', or blanks between two
        std::size_t eq = segment.find('=');
        std::string_view name = trim(segment.substr(0, eq));
        std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : trim(segment.substr(eq + 1));
        if (eq == std::string_view::npos || !valid_tag_name(name) || !valid_value(value)) {
            record.errors.push_back("'" + std::string(segment) + "': not a tag=value pair");
            continue;
        }
        reader.read(name, value);
    }
    reader.finish();
    return record;
}

std::string_view policy_name(DmarcPolicy policy) {
    switch (policy) {
        case DmarcPolicy::kNone:
            return "none";
        case DmarcPolicy::kQuarantine:
            return "quarantine";
        case DmarcPolicy::kReject:
            return "reject";
    }
    return "none";
}

}  // namespace tern::mailauth
